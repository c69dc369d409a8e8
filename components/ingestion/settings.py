"""The ingestion knobs, carried from the config into the executor as CustomConfig."""
from __future__ import annotations

import dataclasses

from google.protobuf import any_pb2, json_format, struct_pb2
from tfx.proto import example_gen_pb2


@dataclasses.dataclass(frozen=True)
class IngestionSettings:
    group_pattern: str
    eval_fraction: float
    split_seed: str
    max_image_pixels: int
    groups_span_classes: bool = False
    stratify_by_source_kind: bool = False
    folds: int = 0  # > 0: eval is fold eval_fold of this many group-wise folds (not eval_fraction)
    eval_fold: int = 0

    def to_custom_config(self) -> example_gen_pb2.CustomConfig:
        packed = any_pb2.Any()
        packed.Pack(json_format.ParseDict(dataclasses.asdict(self), struct_pb2.Struct()))
        return example_gen_pb2.CustomConfig(custom_config=packed)

    @classmethod
    def from_exec_properties(cls, exec_properties: dict) -> "IngestionSettings":
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
