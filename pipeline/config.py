"""The one typed configuration that flows from the CLI into create_pipeline().

Values come from (lowest to highest precedence): the defaults below, a YAML
file (--config FILE, keys named as the fields), then command-line flags.
Nothing else in the project invents paths or knobs.

Each setting is declared once, as a field of the settings group of the code that uses it (its type,
default, and the docstring under it); PipelineConfig is the union of the groups plus the run's own
settings. Each group checks its own ranges (its validate()); the YAML keys, the `run` flags' help
(pipeline/cli/main.py) and README's settings table (pipeline/cli/settings_reference.py) all come from
the fields and their docstrings (field_docs, setting_doc below).
"""
from __future__ import annotations

import ast
import dataclasses
import datetime
import functools
import inspect
import os
import textwrap
from typing import Any, Dict, Optional, Tuple

import yaml

from components.drift.settings import DriftSettings
from components.ingestion.settings import DEFAULT_GROUP_PATTERN, IngestionSettings
from components.model.settings import TrainerSettings
from components.promotion.settings import PromotionSettings
from components.promotion.thresholds import GateThresholds
from components.settings_group import ConfigError  # the groups raise it; the config's users import it from here

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SCHEMA_DIR = os.path.join(REPO_ROOT, "schemas")
RUNNERS = ("concurrent", "beam", "local")
INPUT_FORMATS = ("images", "tfrecord")


@dataclasses.dataclass(frozen=True)
class PipelineConfig(PromotionSettings, TrainerSettings, DriftSettings, IngestionSettings, GateThresholds):
    """Every setting of a run, each declared once, grouped by the code that uses it: ingestion's in
    IngestionSettings (components/ingestion/settings.py), the drift gate's in DriftSettings
    (components/drift/settings.py), training's in TrainerSettings
    (components/model/settings.py, which inherits the Transform's image_size from TransformSettings in
    components/transform/settings.py), the gate's bars in GateThresholds (components/promotion/
    thresholds.py), promotion's in PromotionSettings (components/promotion/settings.py), and the run's
    own below. The YAML keys and the CLI flags' destinations are these field names; pipeline/pipeline.py
    hands each component its group's share (Group.from_config); validate() runs each group's own checks,
    then the run's."""
    output_dir: str = "outputs"
    """Artifacts, ML Metadata, summary, report; the default serving dir is under it."""
    data_dir: Optional[str] = None
    """Class folders of images (or TFRecords). Default: `$DATA_DIR`, else horse-or-human (cache, download), else synthetic."""
    pipeline_name: str = "transfer-pipeline"
    """Name in ML Metadata, push records and the Kubeflow spec."""
    schema_path: Optional[str] = None
    """Curated `schema.pbtxt` the data is held against. Default: the schema in `schemas/` naming the same classes."""
    input_format: str = "images"
    """`images` (class folders) or `tfrecord` (ready tf.Examples; needs `--schema`)."""
    runner: str = "concurrent"
    """`concurrent` (TFX's launcher for each component, the drift gate beside the data gate and Transform:
    pipeline/local/concurrent_dag_runner.py), `beam` (TFX's BeamDagRunner) or `local` (TFX's LocalDagRunner)."""
    beam_args: list = dataclasses.field(default_factory=list)
    """Beam options for every component (on the command line one quoted string). Default: `[]`: chosen by data size."""
    enable_cache: bool = True
    """Reuse components whose inputs, settings and code did not change."""
    report_component: bool = False
    """A RunReport component ends the DAG, so the Kubeflow Pipelines UI shows the report (`compile-kubeflow` turns it on); local runs write `OUTPUT/report.html` themselves."""

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
        """Each group's own checks, then the run's; raises ConfigError naming the setting, the value and the rule."""
        for group in GROUPS:
            group.validate(self)
        if self.runner not in RUNNERS:
            raise ConfigError(f"runner must be {' or '.join(map(repr, RUNNERS))}, got {self.runner!r}")
        if self.input_format not in INPUT_FORMATS:
            raise ConfigError(f"input_format must be {' or '.join(map(repr, INPUT_FORMATS))}, got {self.input_format!r}")
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
            golden_dir=_abs(self.golden_dir),
            schema_path=_abs(self.schema_path),
            serving_dir=_abs(self.serving_dir),
            weights_cache_dir=_abs(self.weights_cache_dir),
        )


# The groups PipelineConfig unites, in the order their settings are listed (README's table).
GROUPS = tuple(cls for cls in reversed(PipelineConfig.__mro__) if cls in PipelineConfig.__bases__)


@functools.lru_cache(maxsize=None)
def field_docs() -> Dict[str, str]:
    """{setting: the docstring under its field}, read from the groups' and PipelineConfig's source."""
    docs: Dict[str, str] = {}
    for cls in reversed(PipelineConfig.__mro__):
        if not dataclasses.is_dataclass(cls):
            continue
        body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
        for field, after in zip(body, body[1:]):
            if isinstance(field, ast.AnnAssign) and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                docs[field.target.id] = " ".join(str(after.value.value).split())
    return docs


def setting_doc(name: str, quote: str = "`") -> Tuple[str, str]:
    """(meaning, default) of a setting, both from its declaration: the docstring less its closing
    "Default: ..." sentence, and the declared value (wrapped in `quote`) with that sentence's words
    ("`0` (off)"), or the words alone where the value is found at run time (None, empty)."""
    meaning, _, how = field_docs().get(name, "").partition(" Default: ")
    how = how.rstrip(".")
    value = getattr(PipelineConfig(), name)
    shown = {True: "true", False: "false"}.get(value, value) if isinstance(value, bool) else value
    if value in (None, "", []):
        return meaning, how or f"{quote}{shown}{quote}"
    return meaning, f"{quote}{shown}{quote}" + (f" ({how})" if how else "")


# What a YAML value or flag of each declared type may be (the groups declare their types as text:
# `from __future__ import annotations`); ints are accepted where floats are expected.
VALUE_KINDS = {"int": int, "float": (int, float), "bool": bool, "str": str, "Optional[str]": str, "list": list}


def _coerce(name: str, value: Any, source: str) -> Any:
    """Checks a value against its field's type."""
    expected = {f.name: f.type for f in dataclasses.fields(PipelineConfig)}[name]
    kind = VALUE_KINDS[expected]
    if value is None:
        return value
    if kind is str and isinstance(value, datetime.date):
        return value.isoformat()  # YAML reads `span: 2024-09-30` as a date: a dated span's name
    bool_for_number = isinstance(value, bool) and kind is not bool  # YAML's yes/no is not a number
    if bool_for_number or not isinstance(value, kind):
        raise ConfigError(f"{source}: {name} must be {expected}, got {value!r}")
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
