"""The notebook the pipeline replaces: a plain tf_keras script doing the same work, for the benchmark to time.

    python benchmarks/plain_keras_baseline.py --data-dir DIR [--epochs 2] [--config configs/X.yaml] [--output-dir D]

Decode, resize to 150x150, scale to [-1, 1], the seed's augmentation (flip, rotation 0.1, zoom 0.2,
translation 0.1), InceptionV3 cut at mixed7 and frozen, Flatten, Dense 1024 relu, Dropout 0.2, softmax;
RMSprop 1e-4, `epochs` epochs with validation, evaluate, save a SavedModel without optimizer state. No
TFX, no Beam, no ML Metadata, no validation, no gate.

Two things are taken from the project so that the comparison is fair: the train/eval split (the
pipeline's own grouping by subject, so both score the same eval images) and the converted ImageNet
weights file (the same numbers). It also starts with the project's process settings
(pipeline/process/startup.py): AutoGraph leaves tf_keras's code unconverted (the first
epoch's tracing is then about 30 s shorter), malloc arenas are capped at 2, and TensorFlow's import is
kept out of the garbage collector's walks. `--autograph-rules
tensorflow` takes the first back, so the script runs as a notebook does, with TensorFlow's own rules.
Prints one JSON line of figures; peak memory is measured by the caller.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pipeline.process.startup import start  # noqa: E402

start()  # the project's process settings, before TensorFlow is imported

import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
import yaml  # noqa: E402
from tf_keras import layers  # noqa: E402

from components.ingestion.group_split import assign_splits  # noqa: E402
from components.ingestion.folder_scan import scan_image_folder  # noqa: E402
from components.weights import resolve_weights  # noqa: E402
from pipeline.config import DEFAULT_GROUP_PATTERN, PipelineConfig  # noqa: E402

SIZE = 150


def split_files(data_dir: str, config_path: str | None):
    """(paths, labels) for train and eval, split exactly as the pipeline splits."""
    settings = {}
    if config_path:
        with open(config_path) as handle:
            settings = yaml.safe_load(handle) or {}
    scan = scan_image_folder(data_dir, settings.get("group_pattern", DEFAULT_GROUP_PATTERN),
                             groups_span_classes=settings.get("groups_span_classes", False))
    split_of = assign_splits(scan.candidates, settings.get("eval_fraction", 0.2),
                             settings.get("split_seed", PipelineConfig.split_seed),
                             by_source_kind=settings.get("stratify_by_source_kind", False))
    splits = {"train": ([], []), "eval": ([], [])}
    for candidate in scan.candidates:
        paths, labels = splits[split_of[candidate.group]]
        paths.append(candidate.path)
        labels.append(candidate.label)
    return splits, scan.class_names


def image_dataset(paths, labels, batch_size, training):
    def load(path, label):
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        image.set_shape([None, None, 3])
        image = tf.image.resize(tf.cast(image, tf.float32), [SIZE, SIZE], antialias=True) / 127.5 - 1.0
        return image, label

    dataset = tf.data.Dataset.from_tensor_slices((paths, labels)).map(load, num_parallel_calls=tf.data.AUTOTUNE).cache()
    if training:
        dataset = dataset.shuffle(len(paths), seed=42)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def build_model(weights_path: str, num_classes: int) -> keras.Model:
    base = keras.applications.InceptionV3(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3))
    base.load_weights(weights_path)
    base.trainable = False
    cut = keras.Model(base.input, base.get_layer("mixed7").output)
    augment = keras.Sequential([
        layers.RandomFlip("horizontal", seed=42),
        layers.RandomRotation(0.1, fill_mode="reflect", seed=42),
        layers.RandomZoom(0.2, fill_mode="reflect", seed=42),
        layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=42),
    ])
    inputs = keras.Input((SIZE, SIZE, 3))
    x = cut(augment(inputs), training=False)  # augmentation layers are no-ops outside training
    x = layers.Flatten()(x)
    x = layers.Dense(1024, activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    model = keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))
    model.compile(keras.optimizers.RMSprop(1e-4), "sparse_categorical_crossentropy", ["accuracy"])
    return model


class EpochTimes(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(round(time.monotonic() - self._started, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--config", help="the pipeline's settings file, for its grouping and split")
    parser.add_argument("--output-dir", help="where the SavedModel goes (default: a temporary folder)")
    parser.add_argument("--autograph-rules", choices=["project", "tensorflow"], default="project",
                        help="project: tf_keras's code left unconverted, as the pipeline runs (default); "
                             "tensorflow: TensorFlow's own rules, which convert it, as a notebook runs")
    args = parser.parse_args()
    if args.autograph_rules == "tensorflow":
        from tensorflow.python.autograph.core import config as autograph_config

        autograph_config.CONVERSION_RULES = tuple(
            rule for rule in autograph_config.CONVERSION_RULES if not rule.matches("tf_keras"))
    started = time.monotonic()
    keras.utils.set_random_seed(42)
    splits, class_names = split_files(args.data_dir, args.config)
    train = image_dataset(*splits["train"], args.batch_size, training=True)
    evaluation = image_dataset(*splits["eval"], args.batch_size, training=False)
    model = build_model(resolve_weights("pretrained", None), len(class_names))
    epochs = EpochTimes()
    fit_started = time.monotonic()
    model.fit(train, validation_data=evaluation, epochs=args.epochs, verbose=0, callbacks=[epochs])
    fit_seconds = time.monotonic() - fit_started
    _, accuracy = model.evaluate(evaluation, verbose=0)
    with tempfile.TemporaryDirectory(prefix="plain-keras-") as scratch:
        model.save(os.path.join(args.output_dir or scratch, "saved_model"), save_format="tf", include_optimizer=False)
    print(json.dumps({
        "train_images": len(splits["train"][0]), "eval_images": len(splits["eval"][0]), "classes": class_names,
        "eval_accuracy": round(float(accuracy), 4), "epoch_seconds": epochs.seconds,
        "fit_seconds": round(fit_seconds, 1), "seconds": round(time.monotonic() - started, 1),
    }), flush=True)


if __name__ == "__main__":
    main()
