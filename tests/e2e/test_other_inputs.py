"""Whole pipelines on small inputs: a data set that breaks its schema, and ready TFRecords.

Both run on real components with the synthetic shapes images (a few dozen
drawn circles and squares) so they stay quick.
"""
import json
import os
import subprocess
import sys

import pytest
import tensorflow as tf

from components.ingestion.folder_scan import scan_image_folder
from components.ingestion.image_decoding import build_example
from components.ingestion.synthetic_images import write_synthetic_images
from pipeline.config import DEFAULT_GROUP_PATTERN, DEFAULT_SCHEMA_DIR

pytestmark = pytest.mark.e2e

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_cli(*args):
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2", PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True)


def summary_of(output_dir):
    with open(os.path.join(output_dir, "run_summary.json")) as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return write_synthetic_images(str(tmp_path_factory.mktemp("shapes")), subjects=6, views=3, size=96)


def test_data_that_breaks_the_schema_stops_the_run_before_transform(shapes, tmp_path):
    horse_or_human_schema = os.path.join(DEFAULT_SCHEMA_DIR, "horse_or_human", "schema.pbtxt")

    result = run_cli("run", "--data-dir", shapes, "--output-dir", str(tmp_path), "--schema", horse_or_human_schema)

    assert result.returncode == 1, result.stderr[-2000:]
    assert "class_name" in result.stderr and "schema" in result.stderr
    summary = summary_of(tmp_path)
    assert summary["status"] == "failed" and "DataValidationError" in summary["error"]
    assert "class_name" in json.dumps(summary["anomalies"])
    ran = {row["component"] for row in summary["components"]}
    assert "ExampleValidator" in ran and not ran & {"Transform", "Trainer", "Pusher"}


def test_ready_tfrecords_run_through_import_example_gen_on_local_dag_runner(shapes, tmp_path):
    records = tmp_path / "records"
    records.mkdir()
    scan = scan_image_folder(shapes, DEFAULT_GROUP_PATTERN)
    with tf.io.TFRecordWriter(str(records / "shapes.tfrecord")) as writer:
        for candidate in scan.candidates:
            writer.write(build_example(candidate, open(candidate.path, "rb").read()))
    schema = os.path.join(DEFAULT_SCHEMA_DIR, "synthetic_shapes", "schema.pbtxt")
    output = tmp_path / "out"

    result = run_cli(
        "run", "--input-format", "tfrecord", "--data-dir", str(records), "--schema", schema,
        "--output-dir", str(output), "--runner", "local", "--epochs", "1", "--no-augment",
        "--accuracy-threshold", "0", "--class-recall-threshold", "0",  # bounds 0: a completed run is blessed
    )

    assert result.returncode == 0, result.stderr[-3000:]
    summary = summary_of(output)
    states = {row["component"]: row["state"] for row in summary["components"]}
    assert states["ImportExampleGen"] == "ran" and states["Pusher"] == "ran"
    assert sum(sum(by_class.values()) for by_class in summary["examples"].values()) == len(scan.candidates)
    assert summary["metrics"]["candidate"]["overall"]["example_count"] > 0
    assert summary["blessed"] is True and os.path.isdir(summary["pushed"])
