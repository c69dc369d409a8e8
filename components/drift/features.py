"""Pooled features of the pipeline's frozen base: what the content check compares.

The images go through the Transform's own decoding (components/transform/preprocessing.py), then the
trainer's frozen InceptionV3 up to its cut layer, whose output is averaged over the image (global average
pooling): one vector per image (768 numbers at `mixed7`), the representation the model's head sees,
without its position in the picture.
"""
from __future__ import annotations

import time
from typing import Callable, Optional, Sequence

import numpy as np
import tensorflow as tf
import tf_keras as keras

from components.model.build import build_feature_extractor
from components.run_stop import stop_here
from components.model.settings import TrainerSettings
from components.drift.image_facts import image_format, image_size
from components.drift.statistics import ReferenceStatistics, sampled_rows
from components.transform.preprocessing import images_from_bytes
from components.weights.store import resolve_weights

BATCH_SIZE = 32
# Progress is printed at most this often (seconds), so a long extraction shows it is alive.
PROGRESS_EVERY_S = 10.0


def feature_description(settings: TrainerSettings) -> str:
    """What makes the features; statistics of two spans compare only when this is the same."""
    return (f"InceptionV3 to {settings.cut_layer}, weights {settings.weights}, {settings.image_size} px, "
            "global average pool")


class PooledFeatureExtractor:
    """The frozen base of TrainerSettings (weights, cut layer, image size), built once, pooled.

    >>> extractor = PooledFeatureExtractor(TrainerSettings())
    >>> extractor(list_of_encoded_images)   # float32 [N, channels at the cut]
    """

    def __init__(self, settings: TrainerSettings, progress: Callable[[str], None] = print):
        self.settings = settings
        self.progress = progress
        weights = resolve_weights(settings.weights, settings.weights_cache_dir, progress=progress)
        size = settings.image_size
        # Only run, never trained: kept for the Trainer that follows in a local run (build.py).
        base = build_feature_extractor(weights, settings.cut_layer, (size, size, 3), keep_spare=True)
        pooled = keras.layers.GlobalAveragePooling2D(name="pooled")(base.output)
        self.model = keras.Model(base.input, pooled, name=f"pooled_{settings.cut_layer}")
        # Decoding and the base as one graph, one TensorFlow call per batch. Run op by op (eagerly), every
        # image's decode and each of the base's ~300 layers came back to Python for the GIL, which a local
        # run's gate shares with Transform beside it: 128 images took 8.0 s beside a thread running Python,
        # 2.3 s as one graph (2.3 and 1.3 s alone, the graph after its 0.5 s trace).
        self._features_of = tf.function(
            lambda encoded: self.model(images_from_bytes(encoded, size), training=False),
            input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)

    @property
    def description(self) -> str:
        return feature_description(self.settings)

    @property
    def dimension(self) -> int:
        return int(self.model.output_shape[-1])

    def __call__(self, images: Sequence[bytes], batch_size: int = BATCH_SIZE,
                 label: Optional[str] = None) -> np.ndarray:
        """Encoded images (JPEG/PNG/GIF/BMP bytes) -> float32 [N, dimension], in the given order."""
        chunks = []
        started = last_report = time.monotonic()
        for start in range(0, len(images), batch_size):
            stop_here(label or "pooled features")  # a local run may run this beside another component
            batch = tf.constant(list(images[start:start + batch_size]), dtype=tf.string)
            chunks.append(self._features_of(batch).numpy())
            done = min(start + batch_size, len(images))
            if label and (time.monotonic() - last_report >= PROGRESS_EVERY_S or done == len(images)):
                last_report = time.monotonic()
                self.progress(f"{label}: pooled features of {done}/{len(images)} images "
                              f"({done / max(last_report - started, 1e-9):.1f} images/s)")
        if not chunks:
            return np.zeros((0, self.dimension), np.float32)
        return np.concatenate(chunks).astype(np.float32)


def span_statistics(images: Sequence[bytes], class_names: Sequence[str], groups: Sequence[str],
                    extractor: PooledFeatureExtractor, max_rows: int, seed: int) -> ReferenceStatistics:
    """A span's summary: every image's class, format and size, and the pooled features of a seeded sample
    of at most max_rows images (only those go through the base, so the cost is bounded)."""
    rows = sampled_rows(len(images), max_rows, seed)
    return ReferenceStatistics.of_span(
        class_names, [image_format(encoded) for encoded in images], [image_size(encoded) for encoded in images],
        groups, rows, extractor([images[row] for row in rows], label="drift statistics"), extractor.description,
    )
