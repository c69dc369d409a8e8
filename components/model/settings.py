"""Trainer knobs, carried from the pipeline config into run_fn as custom_config."""
from __future__ import annotations

import dataclasses
from typing import Optional

from components import constants

LR_SCHEDULES = ("constant", "cosine")
CLASS_WEIGHTINGS = ("none", "balanced")


@dataclasses.dataclass(frozen=True)
class AugmentationSettings:
    """What the training augmentation draws (components/model/augmentation.py: build_augmentation);
    TrainerSettings' augment_* fields, which the config sets by name."""
    strength: float = 1.0
    color: float = 0.0
    hue: float = 0.0
    saturation: float = 0.0
    quarter_turns: bool = False


@dataclasses.dataclass(frozen=True)
class TrainerSettings:
    weights: str = "pretrained"  # pretrained | imagenet | none | PATH to a Keras InceptionV3 no-top file
    """`pretrained`: ImageNet InceptionV3 converted offline; `imagenet` (Keras download), `none` (random base), or PATH to a Keras InceptionV3 no-top file."""
    weights_cache_dir: str = ""
    cut_layer: str = "mixed7"
    """InceptionV3 layer the frozen base ends at."""
    # The side, in pixels, the Transform resizes every image to (square): the model's input. Larger keeps
    # finer detail (fingers across a room) at about (image_size / 150)^2 times the compute per image.
    image_size: int = constants.IMAGE_HEIGHT
    """Side in pixels images are resized to, 75 to 512; about (size / 150)² the compute."""
    head_units: int = 1024
    """Units of the head's Dense layer."""
    dropout: float = 0.2
    """Dropout before the softmax layer."""
    learning_rate: float = 1e-4
    """RMSprop learning rate of the head stage."""
    # "cosine": the learning rate decays to 0 over the stage's epochs; "constant": the seed's recipe.
    lr_schedule: str = "constant"
    """`constant` or `cosine` (decays to 0 over each stage)."""
    epochs: int = 2
    """Epochs of the head stage (0: the head keeps its initial weights)."""
    # Stop a stage when eval accuracy has not improved for this many epochs and keep
    # its best epoch's weights (0: off, train every epoch).
    early_stopping_patience: int = 0
    """Stop a stage after N epochs without better eval accuracy; keep its best epoch. Default: off."""
    batch_size: int = 32
    """Training batch size."""
    augment: bool = True
    """Training-only flip, rotation, zoom and translation."""
    # Scales the augmentation's rotation, zoom and translation (1.0: the seed's 0.1 / 0.2 / 0.1).
    augment_strength: float = 1.0
    """Scales rotation 0.1, zoom 0.2 and translation 0.1."""
    # Random brightness and contrast jitter (0: off, the seed's augmentation; 0.2: +-20 %).
    augment_color: float = 0.0
    """Random brightness and contrast, ± this share (below 1). Default: off."""
    # Random hue turn (up to +- this fraction of the colour wheel: 0.05 is 18 degrees) and saturation
    # scaling (factor 1 +- augment_saturation), per image; 0: off, the seed's augmentation.
    augment_hue: float = 0.0
    """Hue turned by up to this fraction of the colour wheel (at most 0.5). Default: off."""
    augment_saturation: float = 0.0
    """Saturation scaled by 1 ± this (below 1). Default: off."""
    # Each training image turned by a random multiple of 90 degrees, for classes that do not depend
    # on which way up the picture is; False: the seed's augmentation.
    augment_quarter_turns: bool = False
    """Each image turned by a random multiple of 90 degrees."""
    # "balanced": each class's loss weighted by total / (classes * class count), so a
    # smaller class counts as much as a larger one; "none": every example weighs 1.
    class_weighting: str = "none"
    """`balanced`: each class's loss weighed by total / (N × count)."""
    fine_tune_blocks: int = 0  # 0: no second stage
    """Then fine-tune the top N Inception blocks below the cut (batch norms stay frozen). Default: off."""
    fine_tune_epochs: int = 2
    """Epochs of the fine-tuning stage."""
    fine_tune_learning_rate: float = 1e-5
    """Learning rate of the fine-tuning stage."""
    # Serving (and so the Evaluator's gate) answers with the mean of the probabilities for the image and
    # its mirror image: twice the compute per image. The Trainer's early stopping scores single views.
    test_time_flip: bool = False
    """Serving (and so the gate) answers the mean over the image and its mirror image: twice the compute."""
    seed: int = 42
    """Training randomness: initial weights, shuffling, augmentation."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def augmentation(self) -> Optional[AugmentationSettings]:
        """The training augmentation, None when `augment` is off."""
        if not self.augment:
            return None
        return AugmentationSettings(
            strength=self.augment_strength, color=self.augment_color, hue=self.augment_hue,
            saturation=self.augment_saturation, quarter_turns=self.augment_quarter_turns,
        )

    @classmethod
    def from_dict(cls, values: dict) -> "TrainerSettings":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})
