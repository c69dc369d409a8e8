"""rehearsal/: what KFP's driver and launcher do to artifacts, parameters, cache keys, logs and the pipeline root.

Each test names the Go function (kubeflow/pipelines backend/src/v2, tags 2.5.0 and 2.17.0) whose rule it checks.
"""
import json

import pytest
from google.protobuf import json_format, struct_pb2
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp_pb2
from ml_metadata.proto import metadata_store_pb2 as mlmd_pb2

from pipeline.kubeflow.launcher_paths import local_path_for_uri
from rehearsal import driver, launcher
from rehearsal import mlmd_conversion as kfp
from pipeline.run_record.metadata import property_value

SPLITS_BLESSED = {"train": 1, "eval": 1}
OLD, NEW = driver.RELEASES["2.5.0"], driver.RELEASES["2.17.0"]
MODEL = {"artifacts": {"model": {"artifactType": {"schemaTitle": "tfx.Model"}}}}


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
    # driver.go provisionOutputs + metadata/client.go GenerateOutputURI, launcher_v2.go LocalPathForURI
    root = driver.run_root("minio://mlpipeline/v2/artifacts/", "transfer-pipeline", "run-1")
    outputs = driver.provision_outputs(root, "Trainer", MODEL, publish_logs=False, release=OLD)
    uri = outputs.artifacts["model"].artifacts[0].uri
    assert uri.startswith("minio://mlpipeline/v2/artifacts/transfer-pipeline/run-1/Trainer/") and uri.endswith("/model")
    assert local_path_for_uri(uri) == "/minio/" + uri[len("minio://"):]
    assert local_path_for_uri("/data/images") is None
    assert outputs.output_file == "/tmp/kfp_outputs/output_metadata.json"  # 2.5.0
    assert outputs.artifacts["model"].artifacts[0].name == ""  # 2.5.0 names no output


def test_from_2_15_outputs_are_named_and_the_executor_output_file_lies_in_the_tasks_own_folder():
    # 2.17.0 driver.go provisionOutputs L775-807
    outputs = driver.provision_outputs("minio://mlpipeline/v2/artifacts/p/run-1", "Trainer", MODEL, publish_logs=False, release=NEW)
    [model] = outputs.artifacts["model"].artifacts
    assert model.name == "model"
    task_root = model.uri[: -len("/model")]
    assert outputs.output_file == local_path_for_uri(task_root) + "/output_metadata.json"


def test_a_stock_install_adds_an_executor_logs_output_to_every_container_task():
    # driver.go provisionOutputs: PUBLISH_LOGS "true" (the API server's manifest; the driver flag's default)
    for release in (OLD, NEW):
        outputs = driver.provision_outputs("minio://b/v2/artifacts/p/run-1", "DataValidationGate", {}, publish_logs=True, release=release)
        [logs] = outputs.artifacts["executor-logs"].artifacts
        assert logs.type.schema_title == "system.Artifact"
        assert logs.uri.startswith("minio://b/v2/artifacts/p/run-1/DataValidationGate/") and logs.uri.endswith("/executor-logs")
        assert launcher.log_file_path(outputs) == local_path_for_uri(logs.uri)
    assert "executor-logs" not in driver.provision_outputs("minio://b/r", "T", {}, publish_logs=False, release=NEW).artifacts
    assert launcher.log_file_path(driver.provision_outputs("minio://b/r", "T", {}, publish_logs=False, release=NEW)) is None


def test_2_17_qualifies_the_log_with_the_retry_index_and_2_5_does_not():
    # 2.17.0 launcher_v2.go qualifyExecutorLogsForRetry: no retry policy, so index 0
    for release, suffix in ((OLD, "/executor-logs"), (NEW, "/executor-logs-0")):
        outputs = driver.provision_outputs("minio://b/r", "T", MODEL, publish_logs=True, release=release)
        launcher.qualify_executor_logs_for_retry(outputs, release)
        assert outputs.artifacts["executor-logs"].artifacts[0].uri.endswith(suffix)
        assert outputs.artifacts["model"].artifacts[0].uri.endswith("/model")


def test_the_pipeline_root_is_the_runs_then_the_launcher_configmaps_then_minio_never_the_specs():
    # driver.go RootDAG, config/env.go FromConfigMap/DefaultPipelineRoot (2.5.0 L62-82; 2.17.0 L72-92)
    configmap = {"defaultPipelineRoot": "s3://team-bucket/kfp"}
    assert driver.resolve_pipeline_root("gs://run/root", configmap)[0] == "gs://run/root"
    assert driver.resolve_pipeline_root("", configmap) == ("s3://team-bucket/kfp", "the kfp-launcher ConfigMap's defaultPipelineRoot")
    assert driver.resolve_pipeline_root("", {"defaultPipelineRoot": ""})[0] == "minio://mlpipeline/v2/artifacts"
    assert driver.resolve_pipeline_root("", None)[0] == "minio://mlpipeline/v2/artifacts"


def _executor_input(artifact_name="11", parameter="abc", publish_logs=False, release=OLD):
    executor_input = kfp_pb2.ExecutorInput()
    executor_input.inputs.artifacts["examples"].artifacts.add(name=artifact_name, uri="minio://b/examples")
    executor_input.inputs.parameter_values["data_fingerprint"].string_value = parameter
    executor_input.outputs.CopyFrom(driver.provision_outputs(
        "minio://b/run", "T", {"artifacts": {"out": {"artifactType": {"schemaTitle": "system.Artifact"}}}}, publish_logs, release))
    return executor_input


def test_the_cache_key_follows_input_ids_and_parameters_not_output_uris():
    # cacheutils/cache.go GenerateCacheKey, GenerateFingerPrint; driver.go getFingerPrint
    container = {"image": "img:1", "command": ["python"], "args": ["{{$}}"]}
    key = driver.cache_fingerprint(_executor_input(), {}, container)
    assert key == driver.cache_fingerprint(_executor_input(), {}, container)  # new output URIs (a new uuid) do not matter
    assert key != driver.cache_fingerprint(_executor_input(artifact_name="12"), {}, container)
    assert key != driver.cache_fingerprint(_executor_input(parameter="abd"), {}, container)
    assert key != driver.cache_fingerprint(_executor_input(), {}, dict(container, image="img:2"))


def test_published_logs_the_release_and_from_2_15_the_mounted_claims_change_every_cache_key():
    # the executor-logs output is in outputArtifactsSpec; 2.15+ names outputs and keys on pvcNames (driver/cache.go)
    container = {"image": "img:1", "command": ["python"], "args": ["{{$}}"]}
    keys = {driver.cache_fingerprint(_executor_input(publish_logs=logs, release=release), {}, container)
            for logs in (False, True) for release in (OLD, NEW)}
    assert len(keys) == 4
    named = _executor_input(release=NEW)
    assert driver.cache_fingerprint(named, {}, container, ["data", "data"]) == driver.cache_fingerprint(named, {}, container, ["data"])
    assert driver.cache_fingerprint(named, {}, container, ["data"]) != driver.cache_fingerprint(named, {}, container)


def test_placeholders_fill_the_executor_input_and_typed_parameters():
    # launcher_v2.go getPlaceholders, executeV2 (2.5.0) / compileCmdAndArgs (2.17.0)
    executor_input = _executor_input()
    executor_input.inputs.parameter_values["epochs"].number_value = 2
    args = ["--in", "{{$}}", "{{$.inputs.parameters['epochs']}}", "{{$.inputs.artifacts['examples'].path}}"]
    for release in (OLD, NEW):
        filled = launcher.fill_placeholders([], args, executor_input, release)
        assert json.loads(filled[1])["inputs"]["artifacts"]["examples"]["artifacts"][0]["name"] == "11"
        assert filled[2:] == ["2", "/minio/b/examples"]
    command = ["echo", "{{$.inputs.parameters['epochs']}}"]
    assert launcher.fill_placeholders(command, [], executor_input, OLD) == ["echo", "2"]
    assert launcher.fill_placeholders(command, [], executor_input, NEW) == command  # 2.17 fills only {{$}} there


def test_a_rehearsal_without_podman_stops_in_one_line_naming_the_make_target(tmp_path, monkeypatch, capsys):
    from rehearsal.cli import main

    monkeypatch.setenv("PATH", str(tmp_path))  # no podman on it
    (tmp_path / "images" / "horses").mkdir(parents=True)

    assert main(["--data-dir", str(tmp_path / "images"), "--output", str(tmp_path / "out")]) == 2
    [line] = [l for l in capsys.readouterr().err.splitlines() if l.startswith("error: ")]
    assert "podman is not installed" in line and "make podman" in line
