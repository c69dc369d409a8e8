"""pipeline/kubeflow/input_fingerprints.py: the InputFingerprints task, the cache key of what a volume holds."""
import json
import os

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
