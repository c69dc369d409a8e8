"""Trainer knobs, carried from the pipeline config into run_fn as custom_config."""
from __future__ import annotations

import dataclasses
from typing import Optional

from components.settings_group import ConfigError
from components.transform.settings import TransformSettings

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
class TrainerSettings(TransformSettings):
    """How the model is built and trained: each field is a setting of the pipeline's config
    (pipeline/config.py: PipelineConfig), declared here once with its default; image_size is the
    Transform's (components/transform/settings.py), which the model takes."""
    weights: str = "pretrained"
    """`pretrained`: ImageNet InceptionV3 converted offline; `imagenet` (Keras download), `none` (random base), or PATH to a Keras InceptionV3 no-top file."""
    weights_cache_dir: Optional[str] = None
    """Where the converted weights are kept. Default: `$TRANSFER_PIPELINE_CACHE/weights`, else `~/.cache/transfer-pipeline/weights`."""
    cut_layer: str = "mixed7"
    """InceptionV3 layer the frozen base ends at."""
    head_units: int = 1024
    """Units of the head's Dense layer."""
    dropout: float = 0.2
    """Dropout before the softmax layer."""
    learning_rate: float = 1e-4
    """RMSprop learning rate of the head stage."""
    lr_schedule: str = "constant"
    """`constant` or `cosine` (decays to 0 over each stage)."""
    epochs: int = 2
    """Epochs of the head stage (0: the head keeps its initial weights)."""
    early_stopping_patience: int = 0
    """Stop a stage after N epochs without better eval accuracy; keep its best epoch. Default: off."""
    batch_size: int = 32
    """Training batch size."""
    augment: bool = True
    """Training-only flip, rotation, zoom and translation."""
    augment_strength: float = 1.0
    """Scales rotation 0.1, zoom 0.2 and translation 0.1."""
    augment_color: float = 0.0
    """Random brightness and contrast, ± this share (below 1). Default: off."""
    augment_hue: float = 0.0
    """Hue turned by up to ± this fraction of the colour wheel (0.05: 18 degrees; at most 0.5), per image. Default: off."""
    augment_saturation: float = 0.0
    """Saturation scaled by 1 ± this (below 1), per image. Default: off."""
    augment_quarter_turns: bool = False
    """Each image turned by a random multiple of 90 degrees, for classes that do not depend on which way up a picture is."""
    class_weighting: str = "none"
    """`none` (every example weighs 1) or `balanced`: each class's loss weighed by total / (N × count), so a smaller class counts as much as a larger one."""
    fine_tune_blocks: int = 0
    """Then fine-tune the top N Inception blocks below the cut (batch norms stay frozen). Default: off."""
    fine_tune_epochs: int = 2
    """Epochs of the fine-tuning stage."""
    fine_tune_learning_rate: float = 1e-5
    """Learning rate of the fine-tuning stage."""
    test_time_flip: bool = False
    """Serving (and so the gate) answers the mean over the image and its mirror image: twice the compute. Early stopping scores single views."""
    warm_start: bool = False
    """The head starts from the serving model's head when its classes, image size and head shapes match (else from scratch, saying why); a backfill (`--span` older than what the serving model saw) always starts from scratch."""
    seed: int = 42
    """Training randomness: initial weights, shuffling, augmentation."""

    def validate(self) -> "TrainerSettings":
        if self.epochs < 0 or self.batch_size < 1:
            raise ConfigError(f"epochs must be >= 0 and batch_size >= 1, got {self.epochs} and {self.batch_size}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}")
        if self.class_weighting not in CLASS_WEIGHTINGS:
            raise ConfigError(f"class_weighting must be one of {', '.join(CLASS_WEIGHTINGS)}, got {self.class_weighting!r}")
        if self.early_stopping_patience < 0 or self.augment_strength < 0 or not 0 <= self.augment_color < 1:
            raise ConfigError(
                f"early_stopping_patience and augment_strength must be >= 0 and augment_color within [0, 1), got "
                f"{self.early_stopping_patience}, {self.augment_strength} and {self.augment_color}"
            )
        if not 0 <= self.augment_hue <= 0.5 or not 0 <= self.augment_saturation < 1:
            raise ConfigError(
                f"augment_hue must be within [0, 0.5] (a fraction of the colour wheel) and augment_saturation "
                f"within [0, 1), got {self.augment_hue} and {self.augment_saturation}"
            )
        TransformSettings.validate(self)
        return self

    @property
    def augmentation(self) -> Optional[AugmentationSettings]:
        """The training augmentation, None when `augment` is off."""
        if not self.augment:
            return None
        return AugmentationSettings(
            strength=self.augment_strength, color=self.augment_color, hue=self.augment_hue,
            saturation=self.augment_saturation, quarter_turns=self.augment_quarter_turns,
        )
