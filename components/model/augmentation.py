"""Training-only image augmentation, as Keras preprocessing layers.

Applied in the training input pipeline, never inside the exported model, so
serving sees exactly the Transform output.
"""
from tf_keras import layers, models

# The seed's factors at strength 1.0.
ROTATION, ZOOM, TRANSLATION = 0.1, 0.2, 0.1


def build_augmentation(seed: int = 42, strength: float = 1.0) -> models.Sequential:
    """Random flip, then rotation, zoom and translation scaled by `strength`."""
    return models.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomRotation(ROTATION * strength, fill_mode="reflect", seed=seed),
            layers.RandomZoom(ZOOM * strength, fill_mode="reflect", seed=seed),
            layers.RandomTranslation(TRANSLATION * strength, TRANSLATION * strength, fill_mode="reflect", seed=seed),
        ],
        name="training_augmentation",
    )
