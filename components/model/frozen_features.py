"""The frozen base's output computed once and reused: what a base that does not change buys.

Without augmentation every epoch feeds the frozen layers the same images, so they give the same output
every epoch. Computing it once (first epoch, into a file cache, so memory stays flat whatever the data
size) and training the head alone on it gives the same model as training end to end, since the frozen
layers run in inference mode either way, at the cost of an epoch of the head instead of the whole
network. Fine-tuning changes the base, so that stage always trains end to end.

With augmentation the training images differ every epoch, but the eval images never do: the head
stage's validation (ValidationOnFrozenFeatures) runs the base over them once and the head over its
cached output every epoch, the figures Keras's own validation pass gives (the same layers in inference
mode) without the base's pass over the eval split after the first epoch.
"""
from __future__ import annotations

import os
import tempfile
from typing import Dict, Optional

import tensorflow as tf
import tf_keras as keras

from components.model.build import compile_model, extractor_of
from components.model.dataset import with_fixed_parallelism, without_autograph
from components.model.settings import TrainerSettings
from components.model.training import fit_stage

# Examples held in the shuffle buffer: about 150 KB each at mixed7, so at most ~300 MB.
SHUFFLE_BUFFER = 2048


def head_of(model: keras.Model) -> keras.Model:
    """The layers above the frozen base as a model of their own, sharing their weights with `model`."""
    extractor = extractor_of(model)
    features = keras.Input(shape=extractor.output_shape[1:], name="frozen_features")
    x = features
    for layer in model.layers[model.layers.index(extractor) + 1:]:
        x = layer(x)
    return keras.Model(features, x, name="head")


def frozen_feature_dataset(extractor: keras.Model, images: tf.data.Dataset, cache_file: str, batch_size: int,
                           shuffle: bool, seed: int) -> tf.data.Dataset:
    """(image batch, label) batches in a fixed order -> (frozen features, label) batches, computed on the first
    pass and read from cache_file afterwards; reshuffled every pass when `shuffle`."""
    features = images.map(without_autograph(lambda image, label: (extractor(image, training=False), label)))
    features = features.unbatch().cache(cache_file)
    if shuffle:
        features = features.shuffle(SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    return with_fixed_parallelism(features.batch(batch_size))


class ValidationOnFrozenFeatures(keras.callbacks.Callback):
    """val_loss and val_accuracy of `model` (its base frozen) on eval_images, from the head over the base's
    output, computed on the first epoch into `cache_file`."""

    def __init__(self, model: keras.Model, eval_images: tf.data.Dataset, cache_file: str, batch_size: int):
        super().__init__()
        self._head = head_of(model)
        compile_model(self._head, 0.0)  # for its loss and metrics: the head is only evaluated here
        self._features = frozen_feature_dataset(extractor_of(model), eval_images, cache_file, batch_size,
                                                shuffle=False, seed=0)

    def on_epoch_end(self, epoch, logs=None):
        results = self._head.evaluate(self._features, verbose=0, return_dict=True)
        if logs is not None:
            logs.update({"val_loss": results["loss"], "val_accuracy": results["accuracy"]})


def fit_head_on_frozen_features(
    model: keras.Model, train_images: tf.data.Dataset, eval_images: tf.data.Dataset, settings: TrainerSettings,
    log_dir: str, class_weight: Optional[Dict[int, float]], learning_rate,
) -> dict:
    """The head stage of `model` (whose base is frozen) trained on cached frozen features; train_images
    must come in a fixed order (no shuffling, no augmentation). Returns fit_stage's record."""
    print("Trainer: no augmentation: the frozen base's output is computed once and reused every epoch", flush=True)
    extractor, head = extractor_of(model), head_of(model)
    compile_model(head, learning_rate)
    with tempfile.TemporaryDirectory(prefix="frozen-features-") as cache:
        train = frozen_feature_dataset(extractor, train_images, os.path.join(cache, "train"), settings.batch_size,
                                       shuffle=True, seed=settings.seed)
        evaluation = frozen_feature_dataset(extractor, eval_images, os.path.join(cache, "eval"), settings.batch_size,
                                            shuffle=False, seed=settings.seed)
        return fit_stage(head, train, evaluation, settings.epochs, settings, log_dir, "head", class_weight)
