"""A realistic run for the report tests (its summary is tests/conftest.py's `summary`): the Evaluator's files
written with TFMA's own formats, and the Trainer's training history."""
import json

import pytest
import tensorflow as tf
from google.protobuf import json_format
from tensorflow_model_analysis.proto import config_pb2, validation_result_pb2

from components.promotion import noise_gate
from components.promotion.eval_config import GateThresholds, build_eval_config

HISTORY = {"stages": [
    {"name": "head", "epochs": [
        {"epoch": 1, "loss": 0.4123, "accuracy": 0.8311, "val_loss": 0.2011, "val_accuracy": 0.9235},
        {"epoch": 2, "loss": 0.1876, "accuracy": 0.9344, "val_loss": 0.1405, "val_accuracy": 0.9617},
    ]},
]}
TRAINER_SETTINGS = {"weights": "pretrained", "cut_layer": "mixed7", "head_units": 1024, "dropout": 0.2,
                    "learning_rate": 0.0001, "epochs": 2, "batch_size": 32, "augment": True, "fine_tune_blocks": 0}


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
