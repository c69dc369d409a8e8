"""The ingestion knobs, carried from the config into the executor as CustomConfig."""
from __future__ import annotations

import dataclasses

# Matches the subject part of names like horse07-3.png / human12-04.png; files
# that do not match form a group of their own.
DEFAULT_GROUP_PATTERN = r"^([A-Za-z]+\d+)[-_]\d+$"


@dataclasses.dataclass(frozen=True)
class IngestionSettings:
    """How images become train and eval examples: each field is a setting of the pipeline's config
    (pipeline/config.py: PipelineConfig), declared here once with its default."""
    # Regex on the file name without extension; its first matching capture group is the subject,
    # which keeps near-duplicates in one split.
    group_pattern: str = DEFAULT_GROUP_PATTERN
    """Regex on the file name; its first matching capture group is the subject."""
    eval_fraction: float = 0.2  # share of each class held out for eval, in whole groups
    """Share of each class held out for eval, in whole groups."""
    split_seed: str = "transfer-pipeline"  # seed of the stable order groups go to eval in
    """Seed of the stable order groups go to eval in."""
    # Images with more pixels than this are downscaled (not dropped) at ingestion.
    max_image_pixels: int = 4096 * 4096
    """Larger images are downscaled at ingestion (at least 22500). Default: 4096x4096."""
    # True when one source (a video clip) holds images of several classes: its
    # group is then the subject alone, and all its images share one split.
    groups_span_classes: bool = False
    """A group is the subject alone, across classes."""
    # True: eval takes about eval_fraction of each naming scheme of group_pattern (each capture group
    # of a pattern with alternatives: video clips, photo sessions, ...) rather than of each class alone.
    stratify_by_source_kind: bool = False
    """Eval takes about `eval_fraction` of each naming scheme of the pattern too."""
    # folds > 0: eval is fold eval_fold (0 .. folds - 1) of this many group-wise folds instead of
    # eval_fraction of each class (the benchmark of a recipe's spread trains once per fold).
    folds: int = 0
    """At least 2: eval is one of this many group-wise folds instead of `eval_fraction`. Default: off."""
    eval_fold: int = 0
    """Which fold is eval, 0 to `folds` - 1."""

    def to_custom_config(self):
        """The settings as ExampleGen's CustomConfig (a Struct packed in an Any)."""
        from google.protobuf import any_pb2, json_format, struct_pb2
        from tfx.proto import example_gen_pb2

        packed = any_pb2.Any()
        packed.Pack(json_format.ParseDict(dataclasses.asdict(self), struct_pb2.Struct()))
        return example_gen_pb2.CustomConfig(custom_config=packed)

    @classmethod
    def from_exec_properties(cls, exec_properties: dict) -> "IngestionSettings":
        from google.protobuf import json_format, struct_pb2
        from tfx.proto import example_gen_pb2

        custom = example_gen_pb2.CustomConfig()
        json_format.Parse(exec_properties["custom_config"], custom)
        values = struct_pb2.Struct()
        custom.custom_config.Unpack(values)
        raw = json_format.MessageToDict(values)
        return cls(
            group_pattern=raw["group_pattern"],
            eval_fraction=float(raw["eval_fraction"]),
            split_seed=raw["split_seed"],
            max_image_pixels=int(raw["max_image_pixels"]),
            groups_span_classes=bool(raw.get("groups_span_classes", False)),
            stratify_by_source_kind=bool(raw.get("stratify_by_source_kind", False)),
            folds=int(raw.get("folds", 0)),
            eval_fold=int(raw.get("eval_fold", 0)),
        )
