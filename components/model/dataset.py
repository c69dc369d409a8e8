"""Training and eval input: transformed TFRecords -> (image, label) batches."""
from __future__ import annotations

from typing import List

import tensorflow as tf
from tfx_bsl.public import tfxio

from components import constants
from components.model.augmentation import build_augmentation


def transformed_dataset(
    file_pattern: List[str], data_accessor, tf_transform_output, batch_size: int, shuffle: bool, augment: bool, seed: int,
    augment_strength: float = 1.0, augment_color: float = 0.0,
) -> tf.data.Dataset:
    """One pass over the data per iteration (Keras re-iterates it each epoch)."""
    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size,
            label_key=constants.TRANSFORMED_LABEL_KEY,
            num_epochs=1,
            shuffle=shuffle,
            shuffle_seed=seed,
        ),
        tf_transform_output.transformed_metadata.schema,
    )
    dataset = dataset.map(lambda features, label: (features[constants.TRANSFORMED_IMAGE_KEY], label))
    if augment:
        augmentation = build_augmentation(seed, augment_strength, augment_color)
        dataset = dataset.map(lambda image, label: (augmentation(image, training=True), label))
    return dataset.prefetch(tf.data.AUTOTUNE)
