"""The ingestion knobs, carried from the config into the executor as CustomConfig."""
from __future__ import annotations

import dataclasses
import re

from components.settings_group import ConfigError, SettingsGroup

# Matches the subject part of names like horse07-3.png / human12-04.png; files
# that do not match form a group of their own.
DEFAULT_GROUP_PATTERN = r"^([A-Za-z]+\d+)[-_]\d+$"
MIN_MAX_IMAGE_PIXELS = 150 * 150
# Settings that are ImageFolderExampleGen's own execution properties rather than part of its custom_config,
# so that an orchestrator can set them per run (a Kubeflow run parameter); the executor reads them there.
# {setting: its execution property}: `span` travels as `newest_span`, because TFX's ExampleGen driver owns
# the execution property `span` (its own span number, utils.SPAN_PROPERTY_NAME) and overwrites it.
RUN_PARAMETERS = {"span": "newest_span", "window_spans": "window_spans"}


@dataclasses.dataclass(frozen=True)
class IngestionSettings(SettingsGroup):
    """How images become train and eval examples: each field is a setting of the pipeline's config
    (pipeline/config.py: PipelineConfig), declared here once with its default."""
    group_pattern: str = DEFAULT_GROUP_PATTERN
    """Regex on the file name without extension; its first matching capture group is the subject, which keeps near-duplicates in one split."""
    eval_fraction: float = 0.2
    """Share of each class held out for eval, in whole groups."""
    split_seed: str = "transfer-pipeline"
    """Seed of the stable order groups go to eval in."""
    max_image_pixels: int = 4096 * 4096
    """Larger images are downscaled (not dropped) at ingestion; at least 22500. Default: 4096x4096."""
    groups_span_classes: bool = False
    """A group is the subject alone, across classes, so a source holding several classes (a video clip) lands in one split."""
    stratify_by_source_kind: bool = False
    """Eval takes about `eval_fraction` of each naming scheme of the pattern too (each alternative: video clips, photo sessions)."""
    folds: int = 0
    """At least 2: eval is one of this many group-wise folds instead of `eval_fraction` (a recipe's spread: one run per fold). Default: off."""
    eval_fold: int = 0
    """Which fold is eval, 0 to `folds` - 1."""
    window_spans: int = 0
    """In a data dir of spans (top-level folders `span-<N>` or `YYYY-MM-DD`, each holding class folders): train and evaluate on the newest this many spans. Default: every span."""
    span: str = ""
    """In a data dir of spans: the newest span of the window, to train on older data again (a backfill). Default: the newest span present."""
    golden_dir: str = ""
    """A fixed labelled set of class folders (no spans), never trained on: ingested as the split `golden` and judged every run, candidate against the serving model. Default: none."""

    def validate(self) -> "IngestionSettings":
        if not 0.0 < self.eval_fraction < 1.0:
            raise ConfigError(f"eval_fraction must be between 0 and 1 (exclusive), got {self.eval_fraction}")
        if self.folds < 0 or self.folds == 1 or not 0 <= self.eval_fold < max(self.folds, 1):
            raise ConfigError(f"folds must be 0 (off) or at least 2, and eval_fold from 0 to folds - 1; got folds "
                              f"{self.folds} and eval_fold {self.eval_fold}")
        if self.window_spans < 0:
            raise ConfigError(f"window_spans must be 0 (every span) or a number of spans, got {self.window_spans}")
        if self.max_image_pixels < MIN_MAX_IMAGE_PIXELS:
            raise ConfigError(f"max_image_pixels must be at least {MIN_MAX_IMAGE_PIXELS}, got {self.max_image_pixels}")
        try:
            re.compile(self.group_pattern)
        except re.error as err:
            raise ConfigError(f"group_pattern {self.group_pattern!r} is not a valid regular expression: {err}") from None
        return self

    def to_custom_config(self):
        """The settings as ExampleGen's CustomConfig (a Struct packed in an Any), less the RUN_PARAMETERS,
        which travel as execution properties of their own."""
        from google.protobuf import any_pb2, json_format, struct_pb2
        from tfx.proto import example_gen_pb2

        values = {key: value for key, value in self.to_dict().items() if key not in RUN_PARAMETERS}
        packed = any_pb2.Any()
        packed.Pack(json_format.ParseDict(values, struct_pb2.Struct()))
        return example_gen_pb2.CustomConfig(custom_config=packed)

    def run_parameters(self) -> dict:
        """The RUN_PARAMETERS as ImageFolderExampleGen's execution properties: {property: value}."""
        return {prop: getattr(self, name) for name, prop in RUN_PARAMETERS.items()}

    @classmethod
    def from_exec_properties(cls, exec_properties: dict) -> "IngestionSettings":
        """The settings from ExampleGen's execution properties: the custom_config and the RUN_PARAMETERS
        (absent ones at their defaults)."""
        from google.protobuf import json_format, struct_pb2
        from tfx.proto import example_gen_pb2

        custom = example_gen_pb2.CustomConfig()
        json_format.Parse(exec_properties["custom_config"], custom)
        values = struct_pb2.Struct()
        custom.custom_config.Unpack(values)
        raw = json_format.MessageToDict(values)
        # A Struct holds every number as a float.
        whole = {field.name for field in dataclasses.fields(cls) if field.type == "int"}
        raw.update({name: exec_properties[prop] for name, prop in RUN_PARAMETERS.items()
                    if exec_properties.get(prop) is not None})
        return cls.from_dict({key: int(value) if key in whole else value for key, value in raw.items()})
