"""The one typed configuration that flows from the CLI into create_pipeline().

Values come from (lowest to highest precedence): the defaults below, a YAML
file (--config FILE, keys named as the fields), then command-line flags.
Nothing else in the project invents paths or knobs.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Optional

import yaml

from components.model.settings import TrainerSettings

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SCHEMA_DIR = os.path.join(REPO_ROOT, "schemas")
# Matches the subject part of names like horse07-3.png / human12-04.png; files
# that do not match form a group of their own.
DEFAULT_GROUP_PATTERN = r"^([A-Za-z]+\d+)[-_]\d+$"
DEFAULT_BEAM_ARGS = ("--direct_running_mode=multi_processing", "--direct_num_workers=0")


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message says which and how to fix it."""


@dataclasses.dataclass
class PipelineConfig:
    output_dir: str = "outputs"
    data_dir: Optional[str] = None
    pipeline_name: str = "transfer-pipeline"
    # Curated schema the data is validated against (schemas/<dataset>/schema.pbtxt).
    schema_path: Optional[str] = None
    # Input format: "images" (class folders) or "tfrecord" (ready tf.Examples).
    input_format: str = "images"
    eval_fraction: float = 0.2
    group_pattern: str = DEFAULT_GROUP_PATTERN
    split_seed: str = "transfer-pipeline"
    # Images with more pixels than this are downscaled (not dropped) at ingestion.
    max_image_pixels: int = 4096 * 4096
    runner: str = "beam"  # "beam" (BeamDagRunner) or "local" (LocalDagRunner)
    beam_args: list = dataclasses.field(default_factory=lambda: list(DEFAULT_BEAM_ARGS))
    enable_cache: bool = True
    # Where components/ lives for the machine that runs the components (the
    # container image's install path when compiling for Kubeflow).
    components_dir: Optional[str] = None

    # Trainer: InceptionV3 cut at `cut_layer`, frozen, plus a dense head. The
    # defaults are TrainerSettings' (components/model/settings.py), the one
    # place that states them; these fields are passed on by name.
    weights: str = TrainerSettings.weights  # pretrained | imagenet | none | PATH
    weights_cache_dir: Optional[str] = None
    cut_layer: str = TrainerSettings.cut_layer
    head_units: int = TrainerSettings.head_units
    dropout: float = TrainerSettings.dropout
    learning_rate: float = TrainerSettings.learning_rate
    epochs: int = TrainerSettings.epochs
    batch_size: int = TrainerSettings.batch_size
    augment: bool = TrainerSettings.augment
    fine_tune_blocks: int = TrainerSettings.fine_tune_blocks
    fine_tune_epochs: int = TrainerSettings.fine_tune_epochs
    fine_tune_learning_rate: float = TrainerSettings.fine_tune_learning_rate
    seed: int = TrainerSettings.seed  # training randomness (initial weights, shuffling, augmentation)

    # Promotion gate.
    accuracy_threshold: float = 0.90
    max_accuracy_drop: float = 0.01  # tolerated drop vs the serving model
    serving_dir: Optional[str] = None  # default: OUTPUT/serving
    keep_versions: int = 3

    # Report: a RunReport component at the end of the DAG (compile-kubeflow turns it on, so that the report
    # shows in the Kubeflow Pipelines UI); local runs write OUTPUT/report.html themselves, whatever the outcome.
    report_component: bool = False

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
        if self.runner not in ("beam", "local"):
            raise ConfigError(f"runner must be 'beam' or 'local', got {self.runner!r}")
        if self.input_format not in ("images", "tfrecord"):
            raise ConfigError(f"input_format must be 'images' or 'tfrecord', got {self.input_format!r}")
        if self.epochs < 0 or self.batch_size < 1:
            raise ConfigError(f"epochs must be >= 0 and batch_size >= 1, got {self.epochs} and {self.batch_size}")
        if not 0.0 <= self.accuracy_threshold <= 1.0 or not 0.0 <= self.max_accuracy_drop <= 1.0:
            raise ConfigError(
                f"accuracy_threshold and max_accuracy_drop must be within [0, 1], got {self.accuracy_threshold} "
                f"and {self.max_accuracy_drop}"
            )
        if self.keep_versions < 1:
            raise ConfigError(f"keep_versions must be at least 1, got {self.keep_versions}")
        if self.max_image_pixels < 150 * 150:
            raise ConfigError(f"max_image_pixels must be at least 22500, got {self.max_image_pixels}")
        if self.schema_path and not os.path.isfile(self.schema_path):
            raise ConfigError(f"schema file {self.schema_path} does not exist; pass --schema with a schema.pbtxt path")
        return self

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
