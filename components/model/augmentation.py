"""Training-only image augmentation, as Keras preprocessing layers.

Applied in the training input pipeline, never inside the exported model, so
serving sees exactly the Transform output.
"""
import tensorflow as tf
from tf_keras import layers, models
from tf_keras.src.engine.base_layer import BaseRandomLayer

from components.model.settings import AugmentationSettings

# The seed's factors at strength 1.0.
ROTATION, ZOOM, TRANSLATION = 0.1, 0.2, 0.1
# Images are in [-1, 1] after Transform.
VALUE_RANGE = (-1.0, 1.0)


class RandomHueSaturation(BaseRandomLayer):
    """Per image (during training only): the hue turned by up to +-`hue` of the colour wheel and the
    saturation scaled by a factor within 1 +- `saturation`, for light of another colour than the
    training photos' (a purple-lit room, a warm lamp). Images in VALUE_RANGE, as after Transform."""

    def __init__(self, hue: float, saturation: float, seed=None, **kwargs):
        super().__init__(seed=seed, force_generator=True, **kwargs)
        self.hue, self.saturation, self.seed = hue, saturation, seed

    def call(self, images, training=True):
        if not training:
            return images
        low, high = VALUE_RANGE
        hsv = tf.image.rgb_to_hsv(tf.clip_by_value((images - low) / (high - low), 0.0, 1.0))
        per_image = tf.stack([tf.shape(images)[0], 1, 1])
        turn = self._random_generator.random_uniform(per_image, -self.hue, self.hue)
        scale = self._random_generator.random_uniform(per_image, 1.0 - self.saturation, 1.0 + self.saturation)
        hue = tf.math.floormod(hsv[..., 0] + turn, 1.0)
        saturation = tf.clip_by_value(hsv[..., 1] * scale, 0.0, 1.0)
        rgb = tf.image.hsv_to_rgb(tf.stack([hue, saturation, hsv[..., 2]], axis=-1))
        return rgb * (high - low) + low

    def get_config(self):
        return {**super().get_config(), "hue": self.hue, "saturation": self.saturation, "seed": self.seed}


class RandomQuarterTurn(BaseRandomLayer):
    """Per image (during training only): turned by 0, 90, 180 or 270 degrees, at random. For classes that
    do not depend on which way up the picture is (a hand's gesture seen from above, from the front,
    sideways), where rotation's +-36 degrees leaves whole orientations unseen. Square images only."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(seed=seed, force_generator=True, **kwargs)
        self.seed = seed

    def call(self, images, training=True):
        if not training:
            return images
        turns = self._random_generator.random_uniform(tf.shape(images)[:1], 0, 4, dtype=tf.int32)
        quarter = tf.reverse(tf.transpose(images, [0, 2, 1, 3]), axis=[1])  # 90 degrees anticlockwise
        half = tf.reverse(images, axis=[1, 2])
        three_quarters = tf.reverse(quarter, axis=[1, 2])
        choice = tf.reshape(turns, [-1, 1, 1, 1])
        return tf.where(choice == 0, images, tf.where(choice == 1, quarter, tf.where(choice == 2, half, three_quarters)))

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def build_augmentation(knobs: AugmentationSettings = AugmentationSettings(), seed: int = 42) -> models.Sequential:
    """Random flip, then rotation, zoom and translation scaled by `strength`; with `color` > 0 also
    random brightness (up to color x the value range) and contrast (factor 1 +- color); with `hue` or
    `saturation` > 0 also RandomHueSaturation; with `quarter_turns`, RandomQuarterTurn first."""
    strength, color = knobs.strength, knobs.color
    steps = [RandomQuarterTurn(seed=seed)] if knobs.quarter_turns else []
    steps += [
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomRotation(ROTATION * strength, fill_mode="reflect", seed=seed),
        layers.RandomZoom(ZOOM * strength, fill_mode="reflect", seed=seed),
        layers.RandomTranslation(TRANSLATION * strength, TRANSLATION * strength, fill_mode="reflect", seed=seed),
    ]
    if color > 0:
        steps += [
            layers.RandomBrightness(color, value_range=VALUE_RANGE, seed=seed),
            # Keras's RandomContrast clips to [0, 255], which would erase the negative half of [-1, 1].
            layers.Lambda(lambda images: tf.clip_by_value(
                tf.image.random_contrast(images, 1.0 - color, 1.0 + color, seed=seed), *VALUE_RANGE)),
        ]
    if knobs.hue > 0 or knobs.saturation > 0:
        steps.append(RandomHueSaturation(knobs.hue, knobs.saturation, seed=seed))
    return models.Sequential(steps, name="training_augmentation")
