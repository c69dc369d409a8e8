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
    weights_cache_dir: str = ""
    cut_layer: str = "mixed7"
    # The side, in pixels, the Transform resizes every image to (square): the model's input. Larger keeps
    # finer detail (fingers across a room) at about (image_size / 150)^2 times the compute per image.
    image_size: int = constants.IMAGE_HEIGHT
    head_units: int = 1024
    dropout: float = 0.2
    learning_rate: float = 1e-4
    # "cosine": the learning rate decays to 0 over the stage's epochs; "constant": the seed's recipe.
    lr_schedule: str = "constant"
    epochs: int = 2
    # Stop a stage when eval accuracy has not improved for this many epochs and keep
    # its best epoch's weights (0: off, train every epoch).
    early_stopping_patience: int = 0
    batch_size: int = 32
    augment: bool = True
    # Scales the augmentation's rotation, zoom and translation (1.0: the seed's 0.1 / 0.2 / 0.1).
    augment_strength: float = 1.0
    # Random brightness and contrast jitter (0: off, the seed's augmentation; 0.2: +-20 %).
    augment_color: float = 0.0
    # Random hue turn (up to +- this fraction of the colour wheel: 0.05 is 18 degrees) and saturation
    # scaling (factor 1 +- augment_saturation), per image; 0: off, the seed's augmentation.
    augment_hue: float = 0.0
    augment_saturation: float = 0.0
    # Each training image turned by a random multiple of 90 degrees, for classes that do not depend
    # on which way up the picture is; False: the seed's augmentation.
    augment_quarter_turns: bool = False
    # "balanced": each class's loss weighted by total / (classes * class count), so a
    # smaller class counts as much as a larger one; "none": every example weighs 1.
    class_weighting: str = "none"
    fine_tune_blocks: int = 0  # 0: no second stage
    fine_tune_epochs: int = 2
    fine_tune_learning_rate: float = 1e-5
    # Serving (and so the Evaluator's gate) answers with the mean of the probabilities for the image and
    # its mirror image: twice the compute per image. The Trainer's early stopping scores single views.
    test_time_flip: bool = False
    seed: int = 42

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
