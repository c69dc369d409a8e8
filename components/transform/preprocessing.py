"""Transform's preprocessing_fn: raw tf.Example features -> model-ready tensors.

Named by import path in the pipeline (pipeline/pipeline.py: PREPROCESSING_FN).
"""
import tensorflow as tf

from components import constants
from components.transform.settings import TransformSettings


def decode_and_resize(image_bytes: tf.Tensor, size: int = constants.IMAGE_HEIGHT) -> tf.Tensor:
    """One encoded image (JPEG/PNG/GIF/BMP) -> float32 [size, size, 3] in [-1, 1].

    decode_image with expand_animations=False takes a GIF's first frame;
    channels=3 turns grayscale into RGB and drops an alpha channel. The
    [-1, 1] range is what InceptionV3's ImageNet weights were trained on.
    """
    image = tf.io.decode_image(image_bytes, channels=constants.IMAGE_CHANNELS, expand_animations=False)
    image.set_shape([None, None, constants.IMAGE_CHANNELS])
    image = tf.image.resize(
        tf.cast(image, tf.float32), [size, size], antialias=True
    )
    return image / 127.5 - 1.0


def images_from_bytes(image_bytes: tf.Tensor, size: int = constants.IMAGE_HEIGHT) -> tf.Tensor:
    """A batch of encoded images [N] (or [N, 1]) -> float32 [N, size, size, 3]."""
    flat = tf.reshape(image_bytes, [-1])
    return tf.map_fn(
        lambda encoded: decode_and_resize(encoded, size),
        flat,
        fn_output_signature=tf.TensorSpec([size, size, constants.IMAGE_CHANNELS], tf.float32),
    )


def image_size_of(custom_config) -> int:
    """The side the images are resized to: custom_config's image_size (TransformSettings'), its declared
    default when absent, checked as the config checks it."""
    return TransformSettings.from_dict(custom_config or {}).validate().image_size


def preprocessing_fn(inputs, custom_config=None):
    """tf.Transform entry point: decodes, resizes, normalises; keeps the label.

    custom_config: image_size (the side, in pixels) and the code fingerprint that keys TFX's cache.
    """
    return {
        constants.TRANSFORMED_IMAGE_KEY: images_from_bytes(inputs[constants.IMAGE_BYTES_KEY], image_size_of(custom_config)),
        constants.TRANSFORMED_LABEL_KEY: tf.reshape(inputs[constants.LABEL_KEY], [-1]),
    }
