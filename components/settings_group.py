"""What every settings group shares: the error a bad value raises, and a group read from a dict or a config.

A group (IngestionSettings, TrainerSettings, GateThresholds, PromotionSettings) is a frozen dataclass
of the settings one part of the pipeline uses, each field with its default and the docstring under it;
its validate() checks its own fields. pipeline/config.py's PipelineConfig is their union.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, TypeVar

Group = TypeVar("Group", bound="SettingsGroup")


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message says which and how to fix it."""


class SettingsGroup:
    """The reading and checking every settings group does the same way; subclasses are dataclasses."""

    @classmethod
    def from_dict(cls: type[Group], values: Mapping[str, Any]) -> Group:
        """The group from a dict of settings (a component's custom_config): other keys ignored, a missing
        setting at its declared default."""
        known = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})

    @classmethod
    def from_config(cls: type[Group], config: Any) -> Group:
        """The group's share of a config that holds its fields (PipelineConfig), field by field."""
        return cls(**{field.name: getattr(config, field.name) for field in dataclasses.fields(cls)})

    def to_dict(self) -> dict:
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    def validate(self: Group) -> Group:
        """Raises ConfigError for a value out of its range; a group with ranges overrides it."""
        return self
