"""pipeline/run_record/artifacts.py: what a run's artifacts say, whoever wrote their properties."""
import json

from ml_metadata.proto import metadata_store_pb2 as mlmd_pb2

from pipeline.run_record.artifacts import read_model_and_gate, read_warm_start
from pipeline.run_record.record import WarmStartRecord


def test_kfp_run_artifacts_read_an_unblessed_model_as_unblessed():
    # On Kubeflow, RunReport gets its inputs' properties as TFX's entrypoint hands them over: structs.
    # Read as the message itself, a struct is always truthy, so a refused model read as blessed.
    blessing, pushed = mlmd_pb2.Artifact(), mlmd_pb2.Artifact()
    blessing.custom_properties["blessed"].struct_value.update({"__value__": 0.0})
    pushed.custom_properties["pushed"].struct_value.update({"__value__": 0.0})
    pushed.custom_properties["push_note"].struct_value.update({"__value__": "not pushed: the model was not blessed"})

    model, gate = read_model_and_gate([{"outputs": {"blessing": [blessing], "pushed_model": [pushed]}}])

    assert gate.blessed is False and gate.pushed == "not pushed" and gate.why == "not blessed"
    assert gate.push_note == "not pushed: the model was not blessed"
    assert model.uri is None and model.metrics == {}


def test_warm_start_is_read_from_the_training_history_and_absent_when_it_was_off(tmp_path):
    on, off = tmp_path / "on", tmp_path / "off"
    on.mkdir(), off.mkdir()
    (on / "training_history.json").write_text(json.dumps({"stages": [], "warm_start": {"from_version": 3}}))
    (off / "training_history.json").write_text(json.dumps({"stages": []}))

    def model_run(uri):
        artifact = mlmd_pb2.Artifact(uri=str(uri))
        return [{"outputs": {"model_run": [artifact]}}]

    assert read_warm_start(model_run(on)) == WarmStartRecord(from_version=3)
    assert read_warm_start(model_run(off)) is None and read_warm_start([]) is None
