"""pipeline/kubeflow/kfp_backend.py: what KFP's driver and launcher do to artifacts, parameters and cache keys."""
import json

import pytest
from google.protobuf import json_format, struct_pb2
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp_pb2
from ml_metadata.proto import metadata_store_pb2 as mlmd_pb2

from pipeline.kubeflow import kfp_backend as kfp
from pipeline.local.metadata_reader import property_value

SPLITS_BLESSED = {"train": 1, "eval": 1}


def test_a_dict_comes_back_wrapped_a_list_wrapped_numbers_and_bools_as_doubles(kfp_round_trip):
    back = kfp_round_trip({"blessed": SPLITS_BLESSED, "split_names": '["train","eval"]', "names": ["a", "b"], "ok": True, "span": 0})
    assert back["name"] == "7"  # artifacts travel by ML Metadata id
    assert back["metadata"]["blessed"] == {"struct": {"train": 1.0, "eval": 1.0}}
    assert back["metadata"]["names"] == {"list": ["a", "b"]}
    assert back["metadata"]["ok"] == 1.0 and back["metadata"]["span"] == 0.0
    assert back["metadata"]["split_names"] == '["train","eval"]'
    assert back["metadata"]["display_name"] == "examples"  # RecordArtifact's default
    assert back["type"] == {"instanceSchema": ""}  # 2.5.0 does not know an upstream output's schema


def test_a_null_metadata_value_is_refused_as_kfp_refuses_it():
    with pytest.raises(ValueError, match="unsupported value type"):
        kfp.struct_value_to_mlmd_value(struct_pb2.Value(null_value=0))


def test_property_value_reads_every_writer_and_a_zero_blessing_is_false():
    tfx_zero = mlmd_pb2.Value()
    tfx_zero.struct_value.update({"__value__": 0.0})  # how TFX's entrypoint hands a component its inputs' properties
    assert property_value(tfx_zero) == 0.0 and not property_value(tfx_zero)
    assert property_value(kfp.struct_value_to_mlmd_value(json_format.ParseDict(SPLITS_BLESSED, struct_pb2.Value()))) == {
        "train": 1.0, "eval": 1.0}
    assert property_value(mlmd_pb2.Value(int_value=3)) == 3
    assert property_value(mlmd_pb2.Value(string_value="pushed to /serving/1")) == "pushed to /serving/1"


def test_output_uris_lie_under_the_runs_root_and_map_to_the_pods_scratch_folders():
    root = kfp.run_root("minio://mlpipeline/v2/artifacts/", "transfer-pipeline", "run-1")
    outputs = kfp.provision_outputs(root, "Trainer", {"artifacts": {"model": {"artifactType": {"schemaTitle": "tfx.Model"}}}})
    uri = outputs.artifacts["model"].artifacts[0].uri
    assert uri.startswith("minio://mlpipeline/v2/artifacts/transfer-pipeline/run-1/Trainer/") and uri.endswith("/model")
    assert kfp.local_path_for_uri(uri) == "/minio/" + uri[len("minio://"):]
    assert kfp.local_path_for_uri("/data/images") is None
    assert outputs.output_file == "/tmp/kfp_outputs/output_metadata.json"


def _executor_input(artifact_name="11", parameter="abc"):
    executor_input = kfp_pb2.ExecutorInput()
    executor_input.inputs.artifacts["examples"].artifacts.add(name=artifact_name, uri="minio://b/examples")
    executor_input.inputs.parameter_values["data_fingerprint"].string_value = parameter
    executor_input.outputs.CopyFrom(kfp.provision_outputs("minio://b/run", "T", {"artifacts": {"out": {"artifactType": {"schemaTitle": "system.Artifact"}}}}))
    return executor_input


def test_the_cache_key_follows_input_ids_and_parameters_not_output_uris():
    container = {"image": "img:1", "command": ["python"], "args": ["{{$}}"]}
    key = kfp.cache_fingerprint(_executor_input(), {}, container)
    assert key == kfp.cache_fingerprint(_executor_input(), {}, container)  # new output URIs (a new uuid) do not matter
    assert key != kfp.cache_fingerprint(_executor_input(artifact_name="12"), {}, container)
    assert key != kfp.cache_fingerprint(_executor_input(parameter="abd"), {}, container)
    assert key != kfp.cache_fingerprint(_executor_input(), {}, dict(container, image="img:2"))


def test_placeholders_fill_the_executor_input_and_typed_parameters():
    executor_input = _executor_input()
    executor_input.inputs.parameter_values["epochs"].number_value = 2
    filled = kfp.fill_placeholders(["--in", "{{$}}", "{{$.inputs.parameters['epochs']}}",
                                    "{{$.inputs.artifacts['examples'].path}}"], executor_input)
    assert json.loads(filled[1])["inputs"]["artifacts"]["examples"]["artifacts"][0]["name"] == "11"
    assert filled[2:] == ["2", "/minio/b/examples"]


def test_a_run_summary_of_kfp_run_artifacts_reads_an_unblessed_model_as_unblessed():
    # On Kubeflow, RunReport gets its inputs' properties as TFX's entrypoint hands them over: structs.
    # Read as the message itself, a struct is always truthy, so a refused model read as blessed.
    from pipeline.local.run_summary import model_summary

    blessing, pushed = mlmd_pb2.Artifact(), mlmd_pb2.Artifact()
    blessing.custom_properties["blessed"].struct_value.update({"__value__": 0.0})
    pushed.custom_properties["pushed"].struct_value.update({"__value__": 0.0})
    pushed.custom_properties["push_note"].struct_value.update({"__value__": "not pushed: the model was not blessed"})

    summary = model_summary([{"outputs": {"blessing": [blessing], "pushed_model": [pushed]}}])

    assert summary["blessed"] is False and summary["pushed"] == "not pushed"
    assert summary["push_note"] == "not pushed: the model was not blessed"


def test_a_rehearsal_without_podman_stops_in_one_line_naming_the_make_target(tmp_path, monkeypatch, capsys):
    from pipeline.cli.main import main

    monkeypatch.setenv("PATH", str(tmp_path))  # no podman on it
    (tmp_path / "images" / "horses").mkdir(parents=True)

    assert main(["rehearse-kubeflow", "--data-dir", str(tmp_path / "images"), "--output", str(tmp_path / "out")]) == 2
    [line] = [l for l in capsys.readouterr().err.splitlines() if l.startswith("error: ")]
    assert "podman is not installed" in line and "make podman" in line
