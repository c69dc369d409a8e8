"""How a blessed model is promoted: where it goes, which kept version is the bar, how a change is weighed.

ServingBaseline (baseline.py) takes the policies, the Evaluator (evaluator_executor.py) the comparison
policy through it, and SafePusher (pusher_executor.py) the whole group as its custom_config.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

from components.promotion.baseline_choice import POLICIES as BASELINE_POLICIES
from components.promotion.noise_gate import POLICIES as COMPARISON_POLICIES
from components.settings_group import ConfigError, SettingsGroup


@dataclasses.dataclass(frozen=True)
class PromotionSettings(SettingsGroup):
    """How a blessed model is pushed and what it must beat: each field is a setting of the pipeline's config
    (pipeline/config.py: PipelineConfig), declared here once with its default."""
    serving_dir: Optional[str] = None
    """Where blessed models are pushed; a path on a file system with working locks. Default: `OUTPUT/serving`."""
    keep_versions: int = 3
    """Pushed versions kept in the serving dir."""
    baseline_policy: str = "best_kept"
    """The bar: `best_kept` (the kept version of the same classes with the best recorded eval accuracy, so small losses cannot add up) or `latest` (the version serving now)."""
    comparison_policy: str = "not_worse"
    """A change against the bar weighed with its 95% interval: `not_worse` also refuses a candidate worse beyond noise; `better` promotes only a gain beyond noise; `point`: point estimates alone."""
    force_push: bool = False
    """Push over what the gate cannot judge (other class names than the serving model's, a hand-copied version served); the model must still be blessed. Needs a reason."""
    force_push_reason: str = ""
    """Why, recorded in the push record and the summary. The `--reason` flag fills it with `--force-push` (and `accept_drift_reason` with `--accept-drift`). Default: empty."""

    def validate(self) -> "PromotionSettings":
        if self.serving_dir and "://" in self.serving_dir:
            raise ConfigError(
                f"serving_dir {self.serving_dir}: pushes need a file lock, which object stores do not offer; "
                "give a path on a (mounted) file system"
            )
        if self.keep_versions < 1:
            raise ConfigError(f"keep_versions must be at least 1, got {self.keep_versions}")
        if self.baseline_policy not in BASELINE_POLICIES:
            raise ConfigError(f"baseline_policy must be one of {', '.join(BASELINE_POLICIES)}, got {self.baseline_policy!r}")
        if self.comparison_policy not in COMPARISON_POLICIES:
            raise ConfigError(f"comparison_policy must be one of {', '.join(COMPARISON_POLICIES)}, "
                              f"got {self.comparison_policy!r}")
        if self.force_push and not self.force_push_reason.strip():
            raise ConfigError("force_push needs a reason: add --reason TEXT (it is recorded with the pushed version)")
        if self.force_push_reason and not self.force_push:
            raise ConfigError("a force-push reason was given without --force-push; add --force-push or drop the reason")
        return self

    @property
    def force_reason(self) -> str:
        """The reason a push may override what the gate cannot judge; empty unless force_push is set."""
        return self.force_push_reason if self.force_push else ""
