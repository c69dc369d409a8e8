"""pipeline/run_record/artifacts.py: what a run's artifacts say, whoever wrote their properties."""
import json

from ml_metadata.proto import metadata_store_pb2 as mlmd_pb2

from pipeline.run_record.artifacts import read_drift, read_model_and_gate, read_warm_start, stopped_by_the_first_failure
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


def test_the_drift_gate_adds_only_the_seconds_no_other_component_ran_beside_it(tmp_path):
    report = tmp_path / "drift_report"
    report.mkdir()
    (report / "drift_report.json").write_text(json.dumps({"verdict": "no reference", "checks": [], "seconds": 11.8}))

    def row(component, started_ms, ended_ms, outputs=None):
        execution = mlmd_pb2.Execution(create_time_since_epoch=started_ms, last_update_time_since_epoch=ended_ms)
        return {"component": component, "state": "ran", "outputs": outputs or {}, "execution": execution}

    gate = ("DriftGate", 20_000, 32_000, {"drift_report": [mlmd_pb2.Artifact(uri=str(report))]})
    # Transform beside it from 20.1 s to 29.5 s, ExampleValidator (before, overlapping nothing), two others
    # overlapping each other inside Transform's time: 9.4 s beside, 2.6 s alone.
    beside = [row(*gate), row("ExampleValidator", 18_000, 19_900), row("Transform", 20_100, 29_500),
              row("A", 21_000, 25_000), row("B", 24_000, 26_000), row("Trainer", 32_000, 70_000)]
    alone = [row(*gate), row("Transform", 8_000, 19_000), row("Trainer", 32_000, 70_000)]

    assert read_drift(beside).alone_seconds == 2.6
    assert read_drift(alone).alone_seconds == 12.0 and read_drift(alone).seconds == 11.8
    # What it added to the run: the seconds alone, never more than its own (ML Metadata's span includes
    # registration and publication).
    assert read_drift(beside).added_seconds == 2.6 and read_drift(alone).added_seconds == 11.8
    assert read_drift([{"component": "DriftGate", "state": "ran", "outputs": gate[3]}]).alone_seconds is None


def test_a_component_stopped_when_another_failed_beside_it_is_canceled_and_the_run_stopped_at_the_first_failure():
    states = {"ran": mlmd_pb2.Execution.COMPLETE, "failed": mlmd_pb2.Execution.FAILED}

    def row(execution_id, component, state, ended_ms):
        execution = mlmd_pb2.Execution(id=execution_id, last_known_state=states[state], create_time_since_epoch=1_000,
                                       last_update_time_since_epoch=ended_ms)
        return {"component": component, "state": state, "outputs": {}, "execution": execution}

    # The drift gate started first (beside the data gate) and was stopped after the data gate failed.
    rows = stopped_by_the_first_failure([row(4, "ExampleValidator", "ran", 900), row(5, "DriftGate", "failed", 1_375),
                                         row(6, "DataValidationGate", "failed", 1_367)])
    assert [r["state"] for r in rows] == ["ran", "canceled", "failed"]
    assert read_drift(rows, pipeline_root="/nowhere") is None  # a stopped gate judged nothing
    alone = stopped_by_the_first_failure([row(5, "DriftGate", "failed", 1_375), row(6, "Transform", "ran", 1_400)])
    assert [r["state"] for r in alone] == ["failed", "ran"]
