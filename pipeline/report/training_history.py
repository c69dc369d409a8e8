"""Loss and accuracy per epoch, per training stage, from the Trainer's model_run artifact.

The Trainer's own record (training_history.json) is read when it is there;
otherwise the TensorBoard logs Keras wrote under model_run/<stage>/ (train/
and validation/ event files, tags epoch_loss and epoch_accuracy).
"""
from __future__ import annotations

import glob
import json
import os
from typing import Dict, List, Optional

HISTORY_FILE = "training_history.json"
STAGES = ("head", "fine_tune")  # the Trainer's stage names, in the order they run
_TENSORBOARD_RUNS = {"train": "", "validation": "val_"}  # TensorBoard run folder -> Keras history prefix


def _scalars(event_dir: str) -> Dict[int, Dict[str, float]]:
    """{epoch (1-based): {metric: value}} from the event files of one TensorBoard run folder."""
    import tensorflow as tf

    values: Dict[int, Dict[str, float]] = {}
    for path in sorted(glob.glob(os.path.join(event_dir, "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if not value.tag.startswith("epoch_"):
                    continue
                number = float(tf.make_ndarray(value.tensor)) if value.HasField("tensor") else value.simple_value
                values.setdefault(int(event.step) + 1, {})[value.tag[len("epoch_"):]] = round(number, 4)
    return values


def _from_tensorboard(model_run_uri: str) -> List[dict]:
    stages = []
    for stage in STAGES:
        epochs: Dict[int, dict] = {}
        for run, prefix in _TENSORBOARD_RUNS.items():
            for epoch, metrics in _scalars(os.path.join(model_run_uri, stage, run)).items():
                epochs.setdefault(epoch, {"epoch": epoch}).update({prefix + k: v for k, v in metrics.items()})
        if epochs:
            stages.append({"name": stage, "epochs": [epochs[e] for e in sorted(epochs)]})
    return stages


def read_training_history(model_run_uri: Optional[str]) -> Optional[dict]:
    """{"source": file read, "stages": [{"name", "epochs": [{"epoch", "loss", "accuracy", "val_loss", ...}]}]}.

    None when there is no model_run artifact or it holds no epoch (e.g. --epochs 0).
    """
    if not model_run_uri or not os.path.isdir(model_run_uri):
        return None
    path = os.path.join(model_run_uri, HISTORY_FILE)
    if os.path.exists(path):
        with open(path) as handle:
            stages = json.load(handle).get("stages", [])
        source = path
    else:
        stages, source = _from_tensorboard(model_run_uri), f"TensorBoard logs in {model_run_uri}"
    stages = [stage for stage in stages if stage.get("epochs")]
    return {"source": source, "stages": stages} if stages else None
