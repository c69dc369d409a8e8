"""The drift gate's thresholds and the content test's knobs. The defaults are measured: docs/quality.md,
"The drift gate's thresholds" (benchmarks/drift_calibration.py)."""
from __future__ import annotations

import dataclasses

from components.settings_group import ConfigError, SettingsGroup


@dataclasses.dataclass(frozen=True)
class DriftSettings(SettingsGroup):
    """How far a new span may move from the data the serving model was trained on: each field a setting,
    declared here once with its default; compare (statistics.py) takes the group as its thresholds."""
    drift_class_prior_threshold: float = 0.25
    """Largest change of one class's share of the images (L-infinity distance between the label distributions) a span may show."""
    drift_missing_classes_allowed: int = 0
    """Classes of the reference a span may lack entirely."""
    drift_content_threshold: float = 0.03
    """Largest MMD^2 between the frozen base's pooled features of the reference and of a span (RBF kernel, bandwidth by the reference's median distance; 0: same distribution, at most 2)."""
    drift_content_p_value: float = 0.05
    """Content drift is flagged only when the group-wise permutation p-value is at most this too, so a few images cannot trip it by chance."""
    drift_format_threshold: float = 0.25
    """Largest change of one file format's share (PNG, JPEG, GIF, BMP; L-infinity distance) a span may show."""
    drift_size_ratio_threshold: float = 1.6
    """Largest factor between the reference's and a span's median width (or height), either way."""
    drift_size_outside_threshold: float = 0.1
    """Largest share of a span's images whose width or height lies outside the reference's range."""
    drift_feature_rows: int = 128
    """Images of a span whose pooled features are kept (a seeded sample; float16: 200 KB at mixed7) and compared."""
    drift_permutations: int = 300
    """Group permutations of the content check's p-value (its least possible value is 1 / (N + 1))."""
    drift_seed: int = 0
    """Seeds the feature sample and the permutations, so a check gives the same answer twice."""
    drift_gate: bool = True
    """A DriftGate before the Trainer compares the newest span with the serving model's training data and stops the run on drift; off: no gate, and pushed versions carry no drift reference."""
    accept_drift: bool = False
    """Train on a span the drift gate stops (its checks are still reported). Needs a reason. Local runs: compile-kubeflow refuses it (every run of the spec would accept drift); on Kubeflow `submit --accept-drift --reason TEXT` accepts one run."""
    accept_drift_reason: str = ""
    """Why drift is accepted, recorded in the drift report and the summary (the `--reason` flag fills it with `--accept-drift`). Default: empty."""

    def validate(self) -> "DriftSettings":
        shares = {name: getattr(self, name) for name in (
            "drift_class_prior_threshold", "drift_format_threshold", "drift_size_outside_threshold",
            "drift_content_p_value")}
        for name, value in shares.items():
            if not 0 <= value <= 1:
                raise ConfigError(f"{name} must be within [0, 1], got {value}")
        if not 0 <= self.drift_content_threshold <= 2:
            raise ConfigError(f"drift_content_threshold must be within [0, 2] (MMD^2 of an RBF kernel), "
                              f"got {self.drift_content_threshold}")
        if self.drift_size_ratio_threshold < 1:
            raise ConfigError(f"drift_size_ratio_threshold is a factor, at least 1, got {self.drift_size_ratio_threshold}")
        if self.drift_missing_classes_allowed < 0:
            raise ConfigError(f"drift_missing_classes_allowed must be >= 0, got {self.drift_missing_classes_allowed}")
        if self.drift_feature_rows < 2 or self.drift_permutations < 1:
            raise ConfigError(f"drift_feature_rows must be >= 2 and drift_permutations >= 1, got "
                              f"{self.drift_feature_rows} and {self.drift_permutations}")
        if self.accept_drift and not self.accept_drift_reason.strip():
            raise ConfigError("accept_drift needs a reason: add --reason TEXT (it is recorded in the drift report)")
        if self.accept_drift_reason and not self.accept_drift:
            raise ConfigError("a drift-acceptance reason was given without --accept-drift; add --accept-drift or drop "
                              "the reason")
        return self

    @property
    def accepted_reason(self) -> str:
        """The reason drift may pass the gate; empty unless accept_drift is set."""
        return self.accept_drift_reason if self.accept_drift else ""
