"""Serving signatures, built in one place.

- serving_default: serialized tf.Examples (what TFMA and TFX tooling feed).
- serving_images: a batch of raw encoded images (JPEG/PNG bytes; what a TF
  Serving REST client sends as {"b64": ...}).
Both run the Transform graph, so serving decodes exactly as training did,
and both return probability, class_id and class_name.
"""
from __future__ import annotations

from typing import List

import tensorflow as tf

from components import constants

SERVING_DEFAULT = "serving_default"
SERVING_IMAGES = "serving_images"


def _predict(model, transformed: dict, class_names: List[str]) -> dict:
    probability = model(transformed[constants.TRANSFORMED_IMAGE_KEY], training=False)
    class_id = tf.cast(probability[:, 0] >= 0.5, tf.int64)
    return {
        "probability": probability,
        "class_id": class_id,
        "class_name": tf.gather(tf.constant(class_names), class_id),
    }


def build_signatures(model, tf_transform_output, class_names: List[str]) -> dict:
    model.tft_layer = tf_transform_output.transform_features_layer()  # tracked, so it is saved
    image_spec = {constants.IMAGE_BYTES_KEY: tf_transform_output.raw_feature_spec()[constants.IMAGE_BYTES_KEY]}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(serialized):
        raw = tf.io.parse_example(serialized, image_spec)
        return _predict(model, model.tft_layer(raw), class_names)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
    def serve_images(image_bytes):
        raw = {constants.IMAGE_BYTES_KEY: tf.reshape(image_bytes, [-1, 1])}
        return _predict(model, model.tft_layer(raw), class_names)

    return {
        SERVING_DEFAULT: serve_examples.get_concrete_function(),
        SERVING_IMAGES: serve_images.get_concrete_function(),
    }
