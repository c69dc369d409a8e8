"""The gate's bars, as settings: what the EvalConfig (eval_config.py) holds a candidate to."""
from __future__ import annotations

import dataclasses

from components.settings_group import ConfigError, SettingsGroup


@dataclasses.dataclass(frozen=True)
class GateThresholds(SettingsGroup):
    """The gate's bars: each field is a setting of the pipeline's config (pipeline/config.py:
    PipelineConfig), declared here once with its default."""
    accuracy_threshold: float = 0.90
    """Lowest eval accuracy that can be blessed."""
    max_accuracy_drop: float = 0.01
    """Tolerated accuracy drop below the bar."""
    class_recall_threshold: float = 0.90
    """Lowest recall (accuracy on its slice of the eval set) of any one class that can be blessed."""
    max_class_recall_drop: float = 0.01
    """Tolerated drop of a class's recall below the bar's."""

    def validate(self) -> "GateThresholds":
        for field in dataclasses.fields(GateThresholds):
            if not 0.0 <= getattr(self, field.name) <= 1.0:
                raise ConfigError(f"{field.name} must be within [0, 1], got {getattr(self, field.name)}")
        return self
