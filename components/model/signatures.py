"""Serving signatures, built in one place.

- serving_default: serialized tf.Examples (what TFMA and TFX tooling feed).
- serving_images: a batch of raw encoded images (JPEG/PNG bytes; what a TF
  Serving REST client sends as {"b64": ...}).
Both run the Transform graph, so serving decodes exactly as training did,
optionally average the model's answer for the image and its mirror image
(test_time_flip), and both return, per image: class_id, class_name, probability (of that
class), probabilities (every class, in label order) and class_names (the
names of those classes, in the same order).
"""
from __future__ import annotations

from typing import List

import tensorflow as tf

from components import constants

SERVING_DEFAULT = "serving_default"
SERVING_IMAGES = "serving_images"
# Output keys, shared by TFMA's eval config, `predict` and the tests.
CLASS_ID = "class_id"
CLASS_NAME = "class_name"
PROBABILITY = "probability"
PROBABILITIES = "probabilities"
CLASS_NAMES = "class_names"


def _outputs(probabilities, class_names: List[str]) -> dict:
    class_id = tf.argmax(probabilities, axis=-1, output_type=tf.int64)
    names = tf.constant(class_names)
    return {
        CLASS_ID: class_id,
        CLASS_NAME: tf.gather(names, class_id),
        PROBABILITY: tf.reduce_max(probabilities, axis=-1),
        PROBABILITIES: probabilities,
        CLASS_NAMES: tf.tile(names[tf.newaxis, :], [tf.shape(probabilities)[0], 1]),
    }


def probabilities_of(model, images, test_time_flip: bool = False):
    """The model's class probabilities for a batch of transformed images; with test_time_flip, the mean of
    its answers for each image and the image mirrored left to right (still a probability vector). The
    training augmentation flips images, so the model knows both views; two views average out some of a
    single view's mistakes, at twice the compute per image."""
    probabilities = model(images, training=False)
    if test_time_flip:
        probabilities = (probabilities + model(tf.reverse(images, axis=[2]), training=False)) / 2.0
    return probabilities


def build_signatures(model, tf_transform_output, class_names: List[str], test_time_flip: bool = False) -> dict:
    model.tft_layer = tf_transform_output.transform_features_layer()  # tracked, so it is saved
    image_spec = {constants.IMAGE_BYTES_KEY: tf_transform_output.raw_feature_spec()[constants.IMAGE_BYTES_KEY]}

    # Raw features -> outputs, traced once and called by both signatures: tracing the model and the
    # Transform graph is most of the cost of exporting, and the two signatures differ only in parsing.
    # None of them needs AutoGraph (no Python control flow on tensors); with it, the Transform layer's
    # code (tensorflow_transform, which AutoGraph's rules do not exempt) was parsed and rewritten from
    # its source on every export: 0.8 s of a 4.8 s save.
    @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.string)], autograph=False)
    def predict(image_bytes):
        transformed = model.tft_layer({constants.IMAGE_BYTES_KEY: image_bytes})
        return _outputs(probabilities_of(model, transformed[constants.TRANSFORMED_IMAGE_KEY], test_time_flip), class_names)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")], autograph=False)
    def serve_examples(serialized):
        raw = tf.io.parse_example(serialized, image_spec)[constants.IMAGE_BYTES_KEY]
        return predict(tf.reshape(raw, [-1, 1]))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")], autograph=False)
    def serve_images(image_bytes):
        return predict(tf.reshape(image_bytes, [-1, 1]))

    return {
        SERVING_DEFAULT: serve_examples.get_concrete_function(),
        SERVING_IMAGES: serve_images.get_concrete_function(),
    }
