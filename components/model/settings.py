"""Trainer knobs, carried from the pipeline config into run_fn as custom_config."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class TrainerSettings:
    weights: str = "pretrained"  # pretrained | imagenet | none | PATH to a Keras InceptionV3 no-top file
    weights_cache_dir: str = ""
    cut_layer: str = "mixed7"
    head_units: int = 1024
    dropout: float = 0.2
    learning_rate: float = 1e-4
    epochs: int = 2
    batch_size: int = 32
    augment: bool = True
    fine_tune_blocks: int = 0  # 0: no second stage
    fine_tune_epochs: int = 2
    fine_tune_learning_rate: float = 1e-5
    seed: int = 42

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainerSettings":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})
