"""build_transfer_model: InceptionV3 cut at `mixed7`, frozen, plus a small dense head over N classes."""
from __future__ import annotations

from typing import Optional

import tf_keras as keras
from tf_keras import layers

from components import constants
from components.model.settings import TrainerSettings

INPUT_SHAPE = (constants.IMAGE_HEIGHT, constants.IMAGE_WIDTH, constants.IMAGE_CHANNELS)  # the default image_size
# The model's one output: a softmax over the classes, in label order.
PROBABILITIES = "probabilities"


def build_feature_extractor(weights: Optional[str], cut_layer: str, input_shape=INPUT_SHAPE) -> keras.Model:
    """InceptionV3 up to cut_layer; weights: a .h5 path, 'imagenet', or None (random). The weights
    fit any input size: they are convolutions, and the head after the cut is built for its output."""
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
    extractor = keras.Model(base.input, cut, name=f"inception_v3_to_{cut_layer}")
    extractor.trainable = False
    return extractor


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
