"""Training-only image augmentation, as Keras preprocessing layers.

Applied in the training input pipeline, never inside the exported model, so
serving sees exactly the Transform output.
"""
import tensorflow as tf
from tf_keras import layers, models

# The seed's factors at strength 1.0.
ROTATION, ZOOM, TRANSLATION = 0.1, 0.2, 0.1
# Images are in [-1, 1] after Transform.
VALUE_RANGE = (-1.0, 1.0)


def build_augmentation(seed: int = 42, strength: float = 1.0, color: float = 0.0) -> models.Sequential:
    """Random flip, then rotation, zoom and translation scaled by `strength`; with `color` > 0 also
    random brightness (up to color x the value range) and contrast (factor 1 +- color)."""
    steps = [
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
    return models.Sequential(steps, name="training_augmentation")
