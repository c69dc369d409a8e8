"""The one typed configuration that flows from the CLI into create_pipeline().

Values come from (lowest to highest precedence): the defaults below, a YAML
file (--config FILE, keys named as the fields), then command-line flags.
Nothing else in the project invents paths or knobs.
"""
from __future__ import annotations

import dataclasses
import os
import re
from typing import Any, Optional

import yaml

from components import constants
from components.ingestion.settings import DEFAULT_GROUP_PATTERN, IngestionSettings
from components.model.settings import CLASS_WEIGHTINGS, LR_SCHEDULES, TrainerSettings
from components.promotion.thresholds import GateThresholds
from components.promotion.baseline_choice import POLICIES
from components.promotion.noise_gate import POLICIES as COMPARISON_POLICIES

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SCHEMA_DIR = os.path.join(REPO_ROOT, "schemas")


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message says which and how to fix it."""


@dataclasses.dataclass(frozen=True)
class PipelineConfig(TrainerSettings, IngestionSettings, GateThresholds):
    """Every setting of a run, each declared once, grouped by the code that uses it: ingestion's in
    IngestionSettings (components/ingestion/settings.py), training's in TrainerSettings
    (components/model/settings.py), the gate's bars in GateThresholds (components/promotion/
    eval_config.py), and the run's own below. The YAML keys and the CLI flags' destinations are
    these field names; pipeline/pipeline.py hands each group its fields by name."""
    output_dir: str = "outputs"
    """Artifacts, ML Metadata, summary, report; the default serving dir is under it."""
    data_dir: Optional[str] = None
    """Class folders of images (or TFRecords). Default: `$DATA_DIR`, else horse-or-human (cache, download), else synthetic."""
    pipeline_name: str = "transfer-pipeline"
    """Name in ML Metadata, push records and the Kubeflow spec."""
    # Curated schema the data is validated against (schemas/<dataset>/schema.pbtxt).
    schema_path: Optional[str] = None
    """Curated `schema.pbtxt` the data is held against. Default: the schema in `schemas/` naming the same classes."""
    # Input format: "images" (class folders) or "tfrecord" (ready tf.Examples).
    input_format: str = "images"
    """`images` (class folders) or `tfrecord` (ready tf.Examples; needs `--schema`)."""
    runner: str = "beam"  # "beam" (BeamDagRunner) or "local" (LocalDagRunner)
    """`beam` (BeamDagRunner) or `local` (LocalDagRunner)."""
    # Beam options for every component; empty: chosen from the data size at run time (pipeline/process/beam_mode.py).
    beam_args: list = dataclasses.field(default_factory=list)
    """Beam options for every component (below). Default: `[]`: chosen by data size."""
    enable_cache: bool = True
    """Reuse components whose inputs, settings and code did not change."""
    weights_cache_dir: Optional[str] = None  # default: the cache root's weights/ (components/weights/store.py)
    """Where the converted weights are kept. Default: `$TRANSFER_PIPELINE_CACHE/weights`, else `~/.cache/transfer-pipeline/weights`."""

    # Promotion (the gate's thresholds are GateThresholds').
    serving_dir: Optional[str] = None  # default: OUTPUT/serving
    """Where blessed models are pushed; a path on a file system with working locks. Default: `OUTPUT/serving`."""
    keep_versions: int = 3
    """Pushed versions kept in the serving dir."""
    # The bar a candidate must not fall below by more than max_accuracy_drop:
    # "best_kept" (the kept version of the same classes with the best recorded
    # eval accuracy: small losses cannot add up) or "latest" (the version serving now).
    baseline_policy: str = "best_kept"
    """The bar: `best_kept` or `latest` (see the gate below)."""
    # How a change against that bar is weighed, with the 95% intervals of the eval figures
    # (components/promotion/noise_gate.py): "not_worse" also refuses a candidate worse beyond noise,
    # even by less than the tolerated drop; "better" promotes only a gain beyond noise; "point"
    # judges the point estimates alone.
    comparison_policy: str = "not_worse"
    """A change against the bar weighed with its 95% interval: `not_worse` also refuses a candidate worse beyond noise; `better` promotes only a gain beyond noise; `point`: point estimates alone."""
    # Push although the gate cannot judge (other class names than the serving
    # model's, a hand-copied version being served); the model must still be
    # blessed. Deliberate: needs a reason, recorded in the push record and summary.
    force_push: bool = False
    """Push over what the gate cannot judge; needs a reason."""
    force_push_reason: str = ""
    """Why, recorded in the push record and the summary. Default: empty."""

    # Report: a RunReport component at the end of the DAG (compile-kubeflow turns it on, so that the report
    # shows in the Kubeflow Pipelines UI); local runs write OUTPUT/report.html themselves, whatever the outcome.
    report_component: bool = False
    """A RunReport component ends the DAG (`compile-kubeflow` turns it on)."""

    @property
    def pipeline_root(self) -> str:
        return os.path.join(self.output_dir, "pipeline_root")

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.output_dir, "metadata.sqlite")

    @property
    def serving_path(self) -> str:
        return self.serving_dir or os.path.join(self.output_dir, "serving")

    @property
    def summary_path(self) -> str:
        return os.path.join(self.output_dir, "run_summary.json")

    def validate(self) -> "PipelineConfig":
        if not 0.0 < self.eval_fraction < 1.0:
            raise ConfigError(f"eval_fraction must be between 0 and 1 (exclusive), got {self.eval_fraction}")
        if self.folds < 0 or self.folds == 1 or not 0 <= self.eval_fold < max(self.folds, 1):
            raise ConfigError(f"folds must be 0 (off) or at least 2, and eval_fold from 0 to folds - 1; got folds "
                              f"{self.folds} and eval_fold {self.eval_fold}")
        if self.runner not in ("beam", "local"):
            raise ConfigError(f"runner must be 'beam' or 'local', got {self.runner!r}")
        if self.input_format not in ("images", "tfrecord"):
            raise ConfigError(f"input_format must be 'images' or 'tfrecord', got {self.input_format!r}")
        if self.epochs < 0 or self.batch_size < 1:
            raise ConfigError(f"epochs must be >= 0 and batch_size >= 1, got {self.epochs} and {self.batch_size}")
        for name in ("accuracy_threshold", "max_accuracy_drop", "class_recall_threshold", "max_class_recall_drop"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be within [0, 1], got {getattr(self, name)}")
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
        if not constants.MIN_IMAGE_SIZE <= self.image_size <= constants.MAX_IMAGE_SIZE:
            raise ConfigError(
                f"image_size must be from {constants.MIN_IMAGE_SIZE} (the least InceptionV3 takes) to "
                f"{constants.MAX_IMAGE_SIZE} pixels, got {self.image_size}"
            )
        if self.keep_versions < 1:
            raise ConfigError(f"keep_versions must be at least 1, got {self.keep_versions}")
        self._validate_serving()
        if self.max_image_pixels < 150 * 150:
            raise ConfigError(f"max_image_pixels must be at least 22500, got {self.max_image_pixels}")
        try:
            re.compile(self.group_pattern)
        except re.error as err:
            raise ConfigError(f"group_pattern {self.group_pattern!r} is not a valid regular expression: {err}") from None
        if self.schema_path and not os.path.isfile(self.schema_path):
            raise ConfigError(f"schema file {self.schema_path} does not exist; pass --schema with a schema.pbtxt path")
        return self

    def _validate_serving(self) -> None:
        if self.serving_dir and "://" in self.serving_dir:
            raise ConfigError(
                f"serving_dir {self.serving_dir}: pushes need a file lock, which object stores do not offer; "
                "give a path on a (mounted) file system"
            )
        if self.baseline_policy not in POLICIES:
            raise ConfigError(f"baseline_policy must be one of {', '.join(POLICIES)}, got {self.baseline_policy!r}")
        if self.comparison_policy not in COMPARISON_POLICIES:
            raise ConfigError(f"comparison_policy must be one of {', '.join(COMPARISON_POLICIES)}, "
                              f"got {self.comparison_policy!r}")
        if self.force_push and not self.force_push_reason.strip():
            raise ConfigError("force_push needs a reason: add --reason TEXT (it is recorded with the pushed version)")
        if self.force_push_reason and not self.force_push:
            raise ConfigError("a force-push reason was given without --force-push; add --force-push or drop the reason")

    def absolute(self) -> "PipelineConfig":
        """Returns a copy with local paths made absolute (TFX stores them in ML Metadata)."""
        def _abs(path):
            return os.path.abspath(path) if path and "://" not in path else path
        return dataclasses.replace(
            self,
            output_dir=_abs(self.output_dir),
            data_dir=_abs(self.data_dir),
            schema_path=_abs(self.schema_path),
            serving_dir=_abs(self.serving_dir),
            weights_cache_dir=_abs(self.weights_cache_dir),
        )


def _coerce(name: str, value: Any, source: str) -> Any:
    """Checks a value against its field's type; ints are accepted where floats are expected."""
    expected = {f.name: f.type for f in dataclasses.fields(PipelineConfig)}[name]
    kinds = {"int": int, "float": (int, float), "bool": bool, "str": str, "Optional[str]": str, "list": list}
    kind = kinds.get(str(expected).replace("typing.", ""))
    if value is None or kind is None:
        return value
    bool_for_number = isinstance(value, bool) and kind is not bool  # YAML's yes/no is not a number
    if bool_for_number or not isinstance(value, kind):
        raise ConfigError(f"{source}: {name} must be {str(expected).replace('typing.', '')}, got {value!r}")
    return float(value) if kind == (int, float) else value


def field_names() -> set:
    return {f.name for f in dataclasses.fields(PipelineConfig)}


def load_yaml(path: str) -> dict:
    try:
        with open(path) as handle:
            values = yaml.safe_load(handle) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {err}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"config file {path} must hold a mapping of setting: value")
    unknown = sorted(set(values) - field_names())
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(field_names()))}"
        )
    return values


def build_config(yaml_path: Optional[str] = None, **overrides: Any) -> PipelineConfig:
    """Defaults <- YAML file <- overrides (flags left at None do not override)."""
    values: dict = load_yaml(yaml_path) if yaml_path else {}
    values = {k: _coerce(k, v, f"config file {yaml_path}") for k, v in values.items()}
    values.update({k: _coerce(k, v, "setting") for k, v in overrides.items() if v is not None})
    if "data_dir" not in values and os.environ.get("DATA_DIR"):
        values["data_dir"] = os.environ["DATA_DIR"]
    try:
        config = PipelineConfig(**values)
    except TypeError as err:
        raise ConfigError(str(err)) from None
    return config.validate()
