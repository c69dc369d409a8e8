"""Transform's preprocessing_fn: raw tf.Example features -> model-ready tensors.

Named by import path in the pipeline (pipeline/pipeline.py: PREPROCESSING_FN).
"""
import tensorflow as tf

from components import constants


def decode_and_resize(image_bytes: tf.Tensor) -> tf.Tensor:
    """One encoded image (JPEG/PNG/GIF/BMP) -> float32 [H, W, 3] in [-1, 1].

    decode_image with expand_animations=False takes a GIF's first frame;
    channels=3 turns grayscale into RGB and drops an alpha channel. The
    [-1, 1] range is what InceptionV3's ImageNet weights were trained on.
    """
    image = tf.io.decode_image(image_bytes, channels=constants.IMAGE_CHANNELS, expand_animations=False)
    image.set_shape([None, None, constants.IMAGE_CHANNELS])
    image = tf.image.resize(
        tf.cast(image, tf.float32), [constants.IMAGE_HEIGHT, constants.IMAGE_WIDTH], antialias=True
    )
    return image / 127.5 - 1.0


def images_from_bytes(image_bytes: tf.Tensor) -> tf.Tensor:
    """A batch of encoded images [N] (or [N, 1]) -> float32 [N, H, W, 3]."""
    flat = tf.reshape(image_bytes, [-1])
    return tf.map_fn(
        decode_and_resize,
        flat,
        fn_output_signature=tf.TensorSpec(
            [constants.IMAGE_HEIGHT, constants.IMAGE_WIDTH, constants.IMAGE_CHANNELS], tf.float32
        ),
    )


def preprocessing_fn(inputs, custom_config=None):
    """tf.Transform entry point: decodes, resizes, normalises; keeps the label."""
    del custom_config  # carries the code fingerprint that keys TFX's cache
    return {
        constants.TRANSFORMED_IMAGE_KEY: images_from_bytes(inputs[constants.IMAGE_BYTES_KEY]),
        constants.TRANSFORMED_LABEL_KEY: tf.reshape(inputs[constants.LABEL_KEY], [-1]),
    }
