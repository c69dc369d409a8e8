"""The Transform's setting, carried from the config into preprocessing_fn as custom_config."""
from __future__ import annotations

import dataclasses

from components import constants
from components.settings_group import ConfigError, SettingsGroup


@dataclasses.dataclass(frozen=True)
class TransformSettings(SettingsGroup):
    """How the Transform prepares images: a setting of the pipeline's config (pipeline/config.py:
    PipelineConfig), declared here once. TrainerSettings inherits it: the model takes the images at the
    size the Transform graph makes, and the Transform's code never imports the model's."""
    image_size: int = constants.IMAGE_HEIGHT
    """Side in pixels of the square images are resized to (the model's input), 75 to 512; larger keeps finer detail at about (size / 150)² the compute."""

    def validate(self) -> "TransformSettings":
        """The one check of image_size: the config's (through TrainerSettings) and the Transform's own."""
        size = self.image_size
        if isinstance(size, bool) or not isinstance(size, int) or not constants.MIN_IMAGE_SIZE <= size <= constants.MAX_IMAGE_SIZE:
            raise ConfigError(
                f"image_size must be a whole number of pixels from {constants.MIN_IMAGE_SIZE} to "
                f"{constants.MAX_IMAGE_SIZE} (the least InceptionV3 takes is {constants.MIN_IMAGE_SIZE}), got {size!r}"
            )
        return self
