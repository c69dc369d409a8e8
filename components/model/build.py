"""build_transfer_model: InceptionV3 cut at `mixed7`, frozen, plus a small dense head over N classes."""
from __future__ import annotations

import os
import threading
from typing import Dict, Optional, Tuple

import tf_keras as keras
from tf_keras import layers

from components import constants
from components.model.settings import TrainerSettings

INPUT_SHAPE = (constants.IMAGE_HEIGHT, constants.IMAGE_WIDTH, constants.IMAGE_CHANNELS)  # the default image_size
# The model's one output: a softmax over the classes, in label order.
PROBABILITIES = "probabilities"


# A frozen base one component built and only read, kept for the next build of the same base in this
# process: a local run's Trainer takes the drift gate's instead of building InceptionV3 again (its 311
# layers take 3 to 5 s to create). Keyed by what made it; never a randomly initialised one (its values
# follow the seed and the draws before it).
_SPARE_BASES: Dict[Tuple, keras.Model] = {}
_SPARE_LOCK = threading.Lock()


def _spare_key(weights: Optional[str], cut_layer: str, input_shape) -> Optional[Tuple]:
    if not weights or weights == "imagenet" or not os.path.isfile(weights):
        return None
    found = os.stat(weights)
    return os.path.realpath(weights), found.st_size, found.st_mtime_ns, cut_layer, tuple(input_shape)


def drop_spare_bases() -> None:
    """Forgets every kept base (before keras.backend.clear_session, which they should not outlive)."""
    with _SPARE_LOCK:
        _SPARE_BASES.clear()


def build_feature_extractor(weights: Optional[str], cut_layer: str, input_shape=INPUT_SHAPE,
                            keep_spare: bool = False) -> keras.Model:
    """InceptionV3 up to cut_layer; weights: a .h5 path, 'imagenet', or None (random). The weights
    fit any input size: they are convolutions, and the head after the cut is built for its output.

    A base kept by an earlier build with keep_spare (same weights file, cut and input shape) is taken
    instead of building one; keep_spare: the caller only runs the base (never trains or changes it), so it
    is kept in turn for the next build here (a local run's Trainer, after the drift gate)."""
    key = _spare_key(weights, cut_layer, input_shape)
    with _SPARE_LOCK:
        extractor = _SPARE_BASES.pop(key, None) if key else None
    if extractor is None:
        extractor = _new_feature_extractor(weights, cut_layer, input_shape)
    extractor.trainable = False
    if keep_spare and key:
        with _SPARE_LOCK:
            _SPARE_BASES[key] = extractor
    return extractor


def _new_feature_extractor(weights: Optional[str], cut_layer: str, input_shape) -> keras.Model:
    base = keras.applications.InceptionV3(
        include_top=False, weights="imagenet" if weights == "imagenet" else None, input_shape=tuple(input_shape)
    )
    if weights and weights != "imagenet":
        base.load_weights(weights)
    try:
        cut = base.get_layer(cut_layer).output
    except ValueError:
        mixed = [layer.name for layer in base.layers if layer.name.startswith("mixed") and "_" not in layer.name]
        raise ValueError(f"cut_layer {cut_layer!r} is not an InceptionV3 block; choose one of {mixed}") from None
    return keras.Model(base.input, cut, name=f"inception_v3_to_{cut_layer}")


def build_head(features: keras.KerasTensor, settings: TrainerSettings, num_classes: int) -> keras.KerasTensor:
    """Flatten, Dense relu, Dropout, then a softmax over the classes."""
    x = layers.Flatten()(features)
    x = layers.Dense(settings.head_units, activation="relu")(x)
    x = layers.Dropout(settings.dropout)(x)
    return layers.Dense(num_classes, activation="softmax", name=PROBABILITIES)(x)


def build_transfer_model(
    settings: TrainerSettings, weights: Optional[str], num_classes: int, input_shape=INPUT_SHAPE
) -> keras.Model:
    """image in [-1, 1], input_shape (height, width, 3) -> probability of each of the num_classes classes."""
    if num_classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {num_classes}")
    keras.utils.set_random_seed(settings.seed)
    extractor = build_feature_extractor(weights, settings.cut_layer, input_shape)
    # Seeded again: the head starts the same whether the base was built here (its random initial values
    # drawn, then overwritten by the weights) or taken from the drift gate, as in a Kubeflow pod.
    keras.utils.set_random_seed(settings.seed)
    image = keras.Input(shape=tuple(input_shape), name=constants.TRANSFORMED_IMAGE_KEY)
    features = extractor(image, training=False)  # batch norms stay in inference mode, even when fine-tuning
    model = keras.Model(image, build_head(features, settings, num_classes), name="transfer_classifier")
    compile_model(model, settings.learning_rate)
    return model


def compile_model(model: keras.Model, learning_rate) -> None:
    """learning_rate: a number or a Keras schedule. Labels are class ids (sparse)."""
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def extractor_of(model: keras.Model) -> keras.Model:
    """The InceptionV3 part of a model build_transfer_model made."""
    return next(layer for layer in model.layers if layer.name.startswith("inception_v3_to_"))


def unfreeze_top_blocks(model: keras.Model, cut_layer: str, blocks: int) -> int:
    """Makes the top `blocks` Inception blocks below the cut trainable (batch norms stay frozen).

    Returns the number of layers unfrozen.
    """
    extractor = extractor_of(model)
    cut_index = int(cut_layer.replace("mixed", ""))
    first_frozen_end = f"mixed{cut_index - blocks}" if cut_index - blocks >= 0 else None
    extractor.trainable = True
    names = [layer.name for layer in extractor.layers]
    start = names.index(first_frozen_end) + 1 if first_frozen_end else 0
    unfrozen = 0
    for index, layer in enumerate(extractor.layers):
        trainable = index >= start and not isinstance(layer, layers.BatchNormalization)
        layer.trainable = trainable
        unfrozen += int(trainable and bool(layer.weights))
    return unfrozen
