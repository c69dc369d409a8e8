"""Whole pipelines on small inputs: a data set that breaks its schema, ready TFRecords, and another
image size with test-time flips.

Both run on real components with the synthetic shapes images (a few dozen
drawn circles and squares) so they stay quick.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft

from components.ingestion.folder_scan import scan_image_folder
from components.ingestion.image_decoding import build_example
from components.ingestion.synthetic_images import write_synthetic_images
from pipeline.config import DEFAULT_GROUP_PATTERN, DEFAULT_SCHEMA_DIR
from pipeline_runs import run_cli, summary_of

pytestmark = pytest.mark.e2e







@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return write_synthetic_images(str(tmp_path_factory.mktemp("shapes")), subjects=6, views=3, size=96)


def test_data_that_breaks_the_schema_stops_the_run_before_transform(shapes, tmp_path):
    horse_or_human_schema = os.path.join(DEFAULT_SCHEMA_DIR, "horse_or_human", "schema.pbtxt")

    result = run_cli("run", "--data-dir", shapes, "--output-dir", str(tmp_path), "--schema", horse_or_human_schema)

    assert result.returncode == 1, result.stderr[-2000:]
    assert "class_name" in result.stderr and "schema" in result.stderr
    summary = summary_of(tmp_path)
    assert summary.status == "failed" and "DataValidationError" in summary.error
    assert "class_name" in json.dumps(summary.data.anomalies)
    ran = {row.component for row in summary.components}
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
    states = {row.component: row.state for row in summary.components}
    assert states["ImportExampleGen"] == "ran" and states["Pusher"] == "ran"
    assert sum(sum(by_class.values()) for by_class in summary.data.examples.values()) == len(scan.candidates)
    assert summary.model.metrics["candidate"]["overall"]["example_count"] > 0
    assert summary.gate.blessed is True and os.path.isdir(summary.gate.pushed)


def test_image_size_and_test_time_flip_reach_the_transform_the_model_and_both_signatures(shapes, tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_text("image_size: 96\ntest_time_flip: true\n")
    output = tmp_path / "out"

    result = run_cli(
        "run", "--data-dir", shapes, "--output-dir", str(output), "--config", str(settings), "--epochs", "1",
        "--no-augment", "--accuracy-threshold", "0", "--class-recall-threshold", "0",
        "--runner", "beam",  # TFX's BeamDagRunner end to end: the other whole runs take the default runner
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert "components with BeamDagRunner" in result.stdout
    summary = summary_of(output)
    assert summary.gate.blessed is True, summary.gate.why
    spec = tft.TFTransformOutput(summary.data.transform_graph).transformed_feature_spec()
    assert list(spec["image"].shape) == [96, 96, 3]
    model = tf.saved_model.load(summary.gate.pushed)
    # An image and its mirror image get the same answer: each is the mean of the model's answers for both views.
    first = sorted(c.path for c in scan_image_folder(shapes, DEFAULT_GROUP_PATTERN).candidates)[0]
    picture = tf.io.decode_png(tf.io.read_file(first), channels=3)
    picture = tf.concat([picture[:, :48], tf.zeros_like(picture[:, 48:])], axis=1)  # one-sided: its mirror differs
    encoded = [tf.io.encode_png(picture).numpy(), tf.io.encode_png(tf.reverse(picture, axis=[1])).numpy()]
    examples = [tf.train.Example(features=tf.train.Features(feature={
        "image_raw": tf.train.Feature(bytes_list=tf.train.BytesList(value=[image]))})).SerializeToString() for image in encoded]
    for signature, inputs in (("serving_images", {"image_bytes": tf.constant(encoded)}),
                              ("serving_default", {"examples": tf.constant(examples)})):
        probabilities = model.signatures[signature](**inputs)["probabilities"].numpy()
        assert probabilities.shape == (2, 2)
        np.testing.assert_allclose(probabilities[0], probabilities[1], atol=1e-5)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
