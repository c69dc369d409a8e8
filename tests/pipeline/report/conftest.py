"""A realistic run for the report tests: a run summary with every key the pipeline writes, the Evaluator's
files written with TFMA's own formats, and the Trainer's training history."""
import copy
import json

import pytest
import tensorflow as tf
from google.protobuf import json_format
from tensorflow_model_analysis.proto import config_pb2, validation_result_pb2

from components.promotion import noise_gate
from components.promotion.eval_config import GateThresholds, build_eval_config

CLASSES = ["horses", "humans"]
SUMMARY = {
    "status": "succeeded",
    "error": None,
    "data": {"source": "given", "data_dir": "/data/horse-or-human"},
    "pipeline_root": "/runs/1/pipeline_root",
    "serving_dir": "/runs/1/serving",
    "components": [
        {"component": "ImageFolderExampleGen", "state": "ran", "seconds": 27.4},
        {"component": "Trainer", "state": "ran", "seconds": 111.0},
        {"component": "Evaluator", "state": "ran", "seconds": 24.2},
        {"component": "Pusher", "state": "ran", "seconds": 1.5},
    ],
    "classes": CLASSES,
    "examples": {"eval": {"horses": 90, "humans": 93}, "train": {"horses": 360, "humans": 372}},
    "groups_per_split": {"eval": 12, "train": 48},
    "groups_in_both_splits": [],
    "rejected_files": [{"file": "README.md", "reason": "not an image file (.md); ignored"}],
    "converted_files": [{"file": "horses/horse09-1.bmp", "note": "palette BMP re-encoded as RGB PNG"}],
    "warnings": [],
    "anomalies": {},
    "metrics": {
        "candidate": {
            "overall": {"accuracy": 0.9617, "auc": 0.9931, "example_count": 183.0, "accuracy_diff": 0.0117},
            "class_name=horses": {"accuracy": 0.9667, "example_count": 90.0, "accuracy_diff": 0.0111},
            "class_name=humans": {"accuracy": 0.957, "example_count": 93.0},
        },
        "baseline": {
            "overall": {"accuracy": 0.95, "auc": 0.98, "example_count": 183.0},
            "class_name=horses": {"accuracy": 0.9556, "example_count": 90.0},
            "class_name=humans": {"accuracy": 0.9462, "example_count": 93.0},
        },
    },
    "confusion_matrix": {"classes": CLASSES, "counts": [[87, 3], [4, 89]]},
    "per_class": {"horses": {"precision": 0.956, "recall": 0.9667, "examples": 90},
                  "humans": {"precision": 0.9674, "recall": 0.957, "examples": 93}},
    "blessing_failures": [],
    "blessed": True,
    "blessed_why": "meets every threshold",
    "baseline": "serving version 1700000000 from /runs/1/serving",
    "pushed": "/runs/1/serving/1700000100",
    "push_note": "pushed as version 1700000100",
    "model": "/runs/1/pipeline_root/Trainer/model/7",
    "seconds": 231.0,
}
HISTORY = {"stages": [
    {"name": "head", "epochs": [
        {"epoch": 1, "loss": 0.4123, "accuracy": 0.8311, "val_loss": 0.2011, "val_accuracy": 0.9235},
        {"epoch": 2, "loss": 0.1876, "accuracy": 0.9344, "val_loss": 0.1405, "val_accuracy": 0.9617},
    ]},
]}
TRAINER_SETTINGS = {"weights": "pretrained", "cut_layer": "mixed7", "head_units": 1024, "dropout": 0.2,
                    "learning_rate": 0.0001, "epochs": 2, "batch_size": 32, "augment": True, "fine_tune_blocks": 0}


@pytest.fixture
def summary():
    return copy.deepcopy(SUMMARY)


@pytest.fixture
def model_run_dir(tmp_path):
    directory = tmp_path / "model_run"
    directory.mkdir()
    (directory / "training_history.json").write_text(json.dumps(HISTORY))
    return str(directory)


@pytest.fixture
def trainer_settings():
    return dict(TRAINER_SETTINGS)


@pytest.fixture
def write_evaluation():
    return _write_evaluation


def _write_evaluation(directory, failures=(), accuracy_threshold=0.9, max_accuracy_drop=0.01, figures=None,
                      policy="not_worse") -> str:
    """The Evaluator's eval_config.json and validations.tfrecord as TFMA writes them, and with `figures`
    ({"candidate"/"change": {slice: {metric: {value, lower, upper}}}}, as noise_gate.read_figures returns
    them) the gate_noise.json the Evaluator judges them into.

    failures: (slice feature value or None for the whole set, metric name, is change vs baseline).
    """
    directory.mkdir(parents=True, exist_ok=True)
    run = config_pb2.EvalRun(eval_config=build_eval_config(GateThresholds(accuracy_threshold, max_accuracy_drop, accuracy_threshold, max_accuracy_drop)), version="0.47.0")
    (directory / "eval_config.json").write_text(json_format.MessageToJson(run))
    result = validation_result_pb2.ValidationResult(validation_ok=not failures)
    for class_name, metric, is_diff in failures:
        per_slice = result.metric_validations_per_slice.add()
        if class_name:
            per_slice.slice_key.single_slice_keys.add(column="class_name", bytes_value=class_name.encode())
        failure = per_slice.failures.add()
        failure.metric_key.name = metric
        failure.metric_key.is_diff = is_diff
    with tf.io.TFRecordWriter(str(directory / "validations.tfrecord")) as writer:
        writer.write(result.SerializeToString())
    if figures is not None:
        noise_gate.write_record(str(directory), noise_gate.judge(figures, max_accuracy_drop, max_accuracy_drop, policy))
    return str(directory)
