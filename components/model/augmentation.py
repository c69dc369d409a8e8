"""Training-only image augmentation, as Keras preprocessing layers.

Applied in the training input pipeline, never inside the exported model, so
serving sees exactly the Transform output.
"""
from tf_keras import layers, models


def build_augmentation(seed: int = 42) -> models.Sequential:
    return models.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomRotation(0.1, fill_mode="reflect", seed=seed),
            layers.RandomZoom(0.2, fill_mode="reflect", seed=seed),
            layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=seed),
        ],
        name="training_augmentation",
    )
