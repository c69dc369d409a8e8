"""components/data_gate.py: anomalies found by real TFDV turn into a readable stop message.

The anomalies are produced the way ExampleValidator produces them: TFDV
statistics of tf.Examples, validated against the curated schema, written as
Split-<split>/<ExampleValidator's file name>.
"""
import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tensorflow_data_validation.statistics.stats_impl import generate_statistics_in_memory
from tfx.utils import writer_utils
from tfx_bsl.coders import example_coder

from components import constants
from components.data_gate import ANOMALIES_FILE, DataValidationError, anomaly_message, check_validation, read_anomalies
from components.schema_contract import build_schema

SCHEMA = build_schema(["horses", "humans"])


def example(label, class_name, image=b"\x89PNG fake", span=b"span-1"):
    def text(value):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    features = {
        constants.LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
        constants.CLASS_NAME_KEY: text(class_name.encode()),
        constants.FILE_PATH_KEY: text(f"{class_name}/x01-0.png".encode()),
        constants.GROUP_KEY: text(f"{class_name}/x01".encode()),
    }
    if span is not None:
        features[constants.SPAN_KEY] = tf.train.Feature(bytes_list=tf.train.BytesList(value=span if isinstance(span, list) else [span]))
    if image is not None:
        features[constants.IMAGE_BYTES_KEY] = text(image)
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


GOOD = [example(0, "horses"), example(1, "humans")]


def write_anomalies(directory, examples_by_split):
    for split, examples in examples_by_split.items():
        batch = example_coder.ExamplesToRecordBatchDecoder().DecodeBatch(examples)
        anomalies = tfdv.validate_statistics(generate_statistics_in_memory(batch), SCHEMA)
        (directory / f"Split-{split}").mkdir(parents=True)
        writer_utils.write_anomalies(str(directory / f"Split-{split}" / ANOMALIES_FILE), anomalies)
    return str(directory)


def test_data_matching_the_schema_passes(tmp_path):
    uri = write_anomalies(tmp_path, {"train": GOOD, "eval": GOOD})

    assert read_anomalies(uri, ["train", "eval"]) == {}


def test_examples_written_before_spans_pass(tmp_path):
    # Ready TFRecords of an earlier release carry no span feature: the schema leaves it optional.
    uri = write_anomalies(tmp_path, {"train": GOOD, "eval": [example(0, "horses", span=None), example(1, "humans", span=None)]})

    assert read_anomalies(uri, ["train", "eval"]) == {}


@pytest.mark.parametrize(
    "bad, feature, says",
    [
        (example(5, "humans"), "label", "large value: 5"),
        (example(1, "zebras"), "class_name", "zebras"),
        (example(1, "humans", image=None), "image_raw", "present in fewer examples than expected"),
        (example(1, "humans", span=[b"span-1", b"span-2"]), "span", "values"),
    ],
)
def test_each_broken_feature_is_named_with_what_is_wrong(tmp_path, bad, feature, says):
    uri = write_anomalies(tmp_path, {"train": GOOD, "eval": [GOOD[0], bad]})

    found = read_anomalies(uri, ["train", "eval"])

    assert list(found) == ["eval"] and len(found["eval"]) == 1
    assert found["eval"][0].startswith(f"{feature}: ") and says in found["eval"][0]


def test_stop_message_lists_split_feature_schema_and_fix(tmp_path):
    uri = write_anomalies(tmp_path, {"train": [GOOD[0], example(1, "zebras")], "eval": GOOD})

    message = anomaly_message(read_anomalies(uri, ["train", "eval"]), "/runs/ImportSchemaGen/schema/7")

    lines = message.splitlines()
    assert "do not match the curated schema" in lines[0]
    assert lines[1].startswith("  [train] class_name: ") and "zebras" in lines[1]
    assert "schemas/" in lines[-1] and "/runs/ImportSchemaGen/schema/7" in lines[-1]


def test_a_split_without_an_anomalies_file_stops_the_run(tmp_path):
    uri = write_anomalies(tmp_path, {"train": GOOD})

    with pytest.raises(DataValidationError, match="wrote no .* for split 'eval'"):
        read_anomalies(uri, ["train", "eval"])


def test_an_unreadable_anomalies_file_stops_the_run(tmp_path):
    uri = write_anomalies(tmp_path, {"train": GOOD, "eval": GOOD})
    (tmp_path / "Split-eval" / ANOMALIES_FILE).write_bytes(b"\xff\xff not a proto")

    with pytest.raises(DataValidationError, match="cannot be read"):
        read_anomalies(uri, ["train", "eval"])


def test_the_gate_passes_only_validated_blessed_splits(tmp_path):
    uri = write_anomalies(tmp_path, {"train": GOOD, "eval": GOOD})
    blessed = {"train": 1, "eval": 1}

    check_validation(uri, ["train", "eval"], blessed, "/schema")  # passes
    with pytest.raises(DataValidationError, match="did not bless split\\(s\\) eval"):
        check_validation(uri, ["train", "eval"], {"train": 1, "eval": 0}, "/schema")
    with pytest.raises(DataValidationError, match="did not bless"):
        check_validation(uri, ["train", "eval"], None, "/schema")  # no blessing recorded at all
    with pytest.raises(DataValidationError, match="no validated split"):
        check_validation(uri, [], blessed, "/schema")
