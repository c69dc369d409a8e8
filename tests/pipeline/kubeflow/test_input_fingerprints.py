"""pipeline/kubeflow/input_fingerprints.py: the InputFingerprints task, the cache key of what a volume holds."""
import json
import os

import pytest

from pipeline.config import REPO_ROOT
from pipeline.kubeflow import input_fingerprints

SCHEMA = os.path.join(REPO_ROOT, "schemas", "horse_or_human", "schema.pbtxt")


def test_the_input_fingerprints_move_with_an_added_image_and_a_schema_edit_only(tmp_path):
    data = tmp_path / "images"
    (data / "horses").mkdir(parents=True)
    (data / "horses" / "horse01-0.png").write_bytes(b"png")
    schema = tmp_path / "schema.pbtxt"
    schema.write_text(open(SCHEMA).read())

    def fingerprints():
        output = tmp_path / "out" / "output_metadata.json"
        executor_input = {"inputs": {"parameterValues": {"data_dir": str(data), "schema_file": str(schema)}},
                          "outputs": {"outputFile": str(output)}}
        assert input_fingerprints.main(["--executor_input", json.dumps(executor_input)]) == 0
        return json.load(open(output))["parameterValues"]

    first = fingerprints()
    assert fingerprints() == first
    (data / "horses" / "horse02-0.png").write_bytes(b"png")
    second = fingerprints()
    assert second["data_fingerprint"] != first["data_fingerprint"] and second["schema_fingerprint"] == first["schema_fingerprint"]
    schema.write_text(schema.read_text() + "\n")
    assert fingerprints()["schema_fingerprint"] != second["schema_fingerprint"]


def test_in_a_data_dir_of_spans_the_data_fingerprint_covers_the_runs_window_alone(tmp_path):
    data = tmp_path / "images"
    for span in ("span-1", "span-2"):
        for label in ("horses", "humans"):
            (data / span / label).mkdir(parents=True)
            (data / span / label / f"{label[:-1]}01-0.png").write_bytes(b"png")

    def fingerprint(span="", window_spans=0):
        output = tmp_path / "out" / "output_metadata.json"
        executor_input = {"inputs": {"parameterValues": {
            "data_dir": str(data), "schema_file": SCHEMA, "span": span, "window_spans": window_spans,
            "group_pattern": r"^([A-Za-z]+\d+)[-_]\d+$"}}, "outputs": {"outputFile": str(output)}}
        assert input_fingerprints.main(["--executor_input", json.dumps(executor_input)]) == 0
        return json.load(open(output))["parameterValues"]["data_fingerprint"]

    newest, pinned, everything = fingerprint(window_spans=1), fingerprint("span-2", 1), fingerprint()
    assert newest == pinned != everything and "spans span-2:" in newest
    (data / "span-1" / "horses" / "horse02-0.png").write_bytes(b"png")  # outside the one-span window
    assert fingerprint(window_spans=1) == newest and fingerprint() != everything
    (data / "span-3" / "horses").mkdir(parents=True)  # a new span: the schedule's run takes it
    (data / "span-3" / "horses" / "horse03-0.png").write_bytes(b"png")
    (data / "span-3" / "humans").mkdir()
    (data / "span-3" / "humans" / "human03-0.png").write_bytes(b"png")
    assert fingerprint(window_spans=1) != newest and fingerprint("span-2", 1) == pinned


def test_a_span_that_is_not_there_stops_the_task_naming_the_spans_present(tmp_path):
    data = tmp_path / "images"
    for label in ("horses", "humans"):
        (data / "span-1" / label).mkdir(parents=True)
        (data / "span-1" / label / f"{label[:-1]}01-0.png").write_bytes(b"png")
    executor_input = {"inputs": {"parameterValues": {"data_dir": str(data), "schema_file": SCHEMA, "span": "span-9",
                                                     "window_spans": 0, "group_pattern": r"^([A-Za-z]+\d+)[-_]\d+$"}},
                      "outputs": {"outputFile": str(tmp_path / "out.json")}}

    with pytest.raises(SystemExit) as stopped:
        input_fingerprints.main(["--executor_input", json.dumps(executor_input)])

    assert str(stopped.value).startswith("error: ") and "no span 'span-9'" in str(stopped.value) and "span-1" in str(stopped.value)


def test_a_golden_dir_enters_the_data_fingerprint(tmp_path):
    data, golden = tmp_path / "images", tmp_path / "golden"
    for root, label in ((data, "horses"), (data, "humans"), (golden, "horses")):
        (root / label).mkdir(parents=True, exist_ok=True)
        (root / label / f"{label[:-1]}01-0.png").write_bytes(label.encode())
    output = tmp_path / "out" / "output_metadata.json"

    def data_fingerprint(**golden_dir):
        parameters = dict(data_dir=str(data), schema_file=SCHEMA, span="", window_spans=0,
                          group_pattern=r"^([A-Za-z]+\d+)[-_]\d+$", **golden_dir)
        executor_input = {"inputs": {"parameterValues": parameters}, "outputs": {"outputFile": str(output)}}
        assert input_fingerprints.main(["--executor_input", json.dumps(executor_input)]) == 0
        return json.load(open(output))["parameterValues"]["data_fingerprint"]

    without, first = data_fingerprint(), data_fingerprint(golden_dir=str(golden))
    (golden / "horses" / "horse02-0.png").write_bytes(b"png")

    assert first != without and data_fingerprint(golden_dir=str(golden)) != first
    with pytest.raises(SystemExit, match="golden dir .*missing does not exist"):
        data_fingerprint(golden_dir=str(tmp_path / "missing"))
