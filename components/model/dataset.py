"""Training and eval input: the ingested tf.Examples -> the Transform graph -> (image, label) batches.

The Transform writes its graph alone (pipeline/pipeline.py: materialize=False), and the Trainer applies it
here as serving does (signatures.py), in tf.data's threads: each image is decoded and resized once per
run, into a file cache (memory stays flat whatever the data size), then shuffled, batched and augmented
every epoch. Materialized, the Transform decoded every image again in the pipeline's own time, beside the
drift gate, and wrote 270 KB of floats per image (247 MB for horse-or-human) that the Trainer then read
back; on Kubeflow the Transform pod uploaded them and the Trainer's pod downloaded them.

Plain tf.data over the files (components/tfrecords.py tells plain from GZIP by the name): TFX's TFXIO
data accessor does the same through Apache Arrow and took about 5 s to set up each dataset.
"""
from __future__ import annotations

import functools
import os
from collections import Counter
from typing import Dict, List, Optional

import tensorflow as tf

from components import constants
from components.model.augmentation import build_augmentation
from components.model.settings import AugmentationSettings
from components.tfrecords import tfrecord_reader

# Examples held for shuffling: a bounded buffer (about 280 MB of 150x150x3 floats), so memory stays
# flat however large the data set; smaller data sets are shuffled whole.
SHUFFLE_BUFFER = 1024
# Encoded images handed to the Transform graph at a time, on each of tf.data's threads.
TRANSFORM_BATCH = 64

_FIXED_PARALLELISM = tf.data.Options()
_FIXED_PARALLELISM.autotune.enabled = False


def without_autograph(function):
    """tf.data traces map functions through AutoGraph. The Keras augmentation layers' own code is
    left alone by the tf_keras rule (pipeline/process/keras_env.py), which took over the 10 s per Trainer
    run this once saved; the project's map functions still skip it, having no Python control flow
    on tensors, and a lambda whose source AutoGraph cannot find would otherwise print a warning."""
    return tf.autograph.experimental.do_not_convert(function)


def with_fixed_parallelism(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """2 batches prefetched, tf.data's autotuner off: at the end of model.fit, destroying the last
    epoch's iterator waited 5 to 18 s for the autotuning thread; fixed parallelism trains as fast."""
    return dataset.prefetch(2).with_options(_FIXED_PARALLELISM)


def _records(file_patterns: List[str]) -> tf.data.Dataset:
    """The serialized records of every file the patterns match, file after file in name order."""
    files = sorted(path for pattern in file_patterns for path in tf.io.gfile.glob(pattern))
    if not files:
        raise ValueError(f"no TFRecord files match {list(file_patterns)}")
    return functools.reduce(tf.data.Dataset.concatenate, [tfrecord_reader(path) for path in files])


def model_input_dataset(
    file_patterns: List[str], transform_layer, raw_feature_spec: Dict[str, tf.io.FixedLenFeature], batch_size: int,
    shuffle: bool, seed: int, augmentation: Optional[AugmentationSettings] = None, cache_file: Optional[str] = None,
) -> tf.data.Dataset:
    """The ingested tf.Examples of file_patterns through transform_layer (the Transform graph's Keras layer,
    TFTransformOutput.transform_features_layer) as (image, label) batches; one pass over the data per
    iteration (Keras re-iterates it each epoch, reshuffled each time). cache_file: where the transformed
    examples are kept after the first complete pass (None: transformed again on every pass); augmentation:
    drawn afresh for every batch (None: the images as the Transform graph gives them)."""
    spec = {key: raw_feature_spec[key] for key in (constants.IMAGE_BYTES_KEY, constants.LABEL_KEY)}

    @without_autograph
    def transform(serialized):
        transformed = transform_layer(tf.io.parse_example(serialized, spec))
        return transformed[constants.TRANSFORMED_IMAGE_KEY], transformed[constants.TRANSFORMED_LABEL_KEY]

    dataset = _records(file_patterns).batch(TRANSFORM_BATCH).map(transform, num_parallel_calls=os.cpu_count() or 1)
    dataset = dataset.unbatch()
    if cache_file is not None:
        dataset = dataset.cache(cache_file)
    if shuffle:
        dataset = dataset.shuffle(SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augmentation is not None:
        augment = build_augmentation(augmentation, seed)
        dataset = dataset.map(without_autograph(lambda image, label: (augment(image, training=True), label)))
    return with_fixed_parallelism(dataset)


def label_counts(file_patterns: List[str], label_key: str, label_spec: tf.io.FixedLenFeature) -> Counter:
    """Examples per class id in TFRecords of tf.Examples, parsing the label alone (a second of
    reading where decoding every image tensor took several)."""

    @without_autograph
    def labels_of(serialized):
        return tf.reshape(tf.io.parse_example(serialized, {label_key: label_spec})[label_key], [-1])

    counts: Counter = Counter()
    for labels in _records(file_patterns).batch(512).map(labels_of):
        counts.update(labels.numpy().tolist())
    return counts
