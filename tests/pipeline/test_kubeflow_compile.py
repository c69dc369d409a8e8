"""pipeline/kubeflow_runner.py, kubeflow_entrypoint.py and kubeflow_cli.py: the Kubeflow spec, submit's refusals, the pod entrypoint.

Offline: specs are compiled into tmp_path and read back with the KFP SDK's own
loaders; `submit` is only ever pointed at a closed port on 127.0.0.1.
"""
import argparse
import importlib
import json
import os
import shutil
import socket
import sys

import pytest
import yaml
from google.protobuf import json_format
from kfp.client.client import _extract_pipeline_yaml  # what create_run_from_pipeline_package uploads
from kfp.components import load_component_from_file

import pipeline.local_runner  # noqa: F401  (heavy TFX imports and their warnings happen here, not in captured output)
from components.data_gate import ANOMALIES_FILE, BLESSED_PROPERTY
from pipeline import kubeflow_entrypoint as kfe
from pipeline import kubeflow_runner as kfr
from pipeline.config import REPO_ROOT, ConfigError, build_config
from pipeline.kubeflow_cli import DEFAULT_SCHEMA, register
from pipeline.pipeline import create_pipeline

IMAGE = "registry.example.com/transfer-pipeline:9.9.9"
ROOT = "minio://mlpipeline/v2/artifacts/test"
COMMITTED_SPEC = os.path.join(REPO_ROOT, "kubernetes", "pipeline.yaml")


def run_cli(argv):
    """The two subcommands as pipeline/cli.py's main() runs them: exit code, ConfigError as one line."""
    parser = argparse.ArgumentParser(prog="transfer-pipeline")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def one_error_line(capsys):
    err = [line for line in capsys.readouterr().err.strip().splitlines() if line.startswith("error: ")]
    assert len(err) == 1, err
    return err[0]


def closed_local_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("spec") / "pipeline.yaml")
    assert run_cli(["compile-kubeflow", "--output", path, "--image", IMAGE, "--pipeline-root", ROOT]) == 0
    return path


def executors(spec):
    return spec["deploymentSpec"]["executors"]


def test_spec_holds_every_component_of_the_local_pipeline_running_in_the_image(compiled, tmp_path):
    local_ids = {c.id for c in create_pipeline(build_config(schema_path=DEFAULT_SCHEMA, data_dir=str(tmp_path))).components}
    spec = json_format.MessageToDict(load_component_from_file(compiled).pipeline_spec)

    assert set(spec["root"]["dag"]["tasks"]) == local_ids | {"RunReport"}  # the report page, for KFP's UI
    assert spec["defaultPipelineRoot"] == ROOT
    for label, executor in executors(spec).items():
        assert executor["container"]["image"] == IMAGE, label
        assert executor["container"]["command"] == list(kfr.CONTAINER_COMMAND), label


def test_the_run_report_is_an_html_output_that_the_kfp_ui_shows_after_the_push(compiled):
    spec = json_format.MessageToDict(load_component_from_file(compiled).pipeline_spec)
    task = spec["root"]["dag"]["tasks"]["RunReport"]
    component = spec["components"][task["componentRef"]["name"]]
    output = component["outputDefinitions"]["artifacts"]["report"]["artifactType"]

    # KFP's launcher records the schema's title as the artifact's type; the UI renders type system.HTML.
    assert yaml.safe_load(output["instanceSchema"])["title"] == "system.HTML"
    assert {"Pusher", "Evaluator", "Trainer", "ImageFolderExampleGen"} <= set(task["dependentTasks"])
    settings = json.loads(task["inputs"]["parameters"]["trainer_settings"]["runtimeValue"]["constant"])
    assert settings["cut_layer"] == "mixed7"


def test_functions_by_import_path_and_schema_in_the_image_at_a_file_this_checkout_has(compiled):
    spec, _ = kfr.read_spec(compiled)
    tasks = spec["root"]["dag"]["tasks"]
    parameters = {name: tasks[name]["inputs"]["parameters"] for name in ("Transform", "Trainer")}
    names = [parameters["Transform"]["preprocessing_fn"], parameters["Trainer"]["run_fn"]]
    schema = tasks["ImportSchemaGen"]["inputs"]["parameters"]["schema_file"]["runtimeValue"]["constant"]

    for name in names:
        module, function = name["runtimeValue"]["constant"].rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), function)), name
    assert not any("module_file" in values for values in parameters.values())
    assert schema.startswith(kfr.INSTALL_DIR + "/"), schema
    assert os.path.isfile(os.path.join(REPO_ROOT, os.path.relpath(schema, kfr.INSTALL_DIR))), schema
    assert "_wheels" not in open(compiled).read()  # no wheel built on this machine, nothing under the pipeline root


def test_kfp_client_reads_volume_mounts_for_ingestion_and_the_gate(compiled):
    document = _extract_pipeline_yaml(compiled)
    assert set(document.to_dict()) == {"pipeline_spec", "platform_spec"}  # the body of the create-run request
    mounts = json_format.MessageToDict(document.platform_spec)["platforms"]["kubernetes"]["deploymentSpec"]["executors"]

    assert mounts["ImageFolderExampleGen_executor"]["pvcMount"] == [{"constant": kfr.DATA_PVC, "mountPath": kfr.DATA_MOUNT}]
    for label in ("ServingBaseline_executor", "Pusher_executor"):
        assert mounts[label]["pvcMount"] == [{"constant": kfr.SERVING_PVC, "mountPath": kfr.SERVING_MOUNT}]
    tasks = json_format.MessageToDict(document.pipeline_spec)["root"]["dag"]["tasks"]
    assert tasks["ServingBaseline"]["inputs"]["parameters"]["serving_dir"]["runtimeValue"]["constant"] == kfr.DEFAULT_SERVING_DIR


def test_only_container_tasks_no_resolver_that_open_source_kfp_rejects(compiled):
    spec, _ = kfr.read_spec(compiled)
    assert all(set(executor) == {"container"} for executor in executors(spec).values())


def test_baseline_lookup_is_never_cached_and_its_compile_time_state_is_blank(compiled):
    tasks = kfr.read_spec(compiled)[0]["root"]["dag"]["tasks"]

    assert tasks["ServingBaseline"]["cachingOptions"] == {"enableCache": False}
    assert tasks["ServingBaseline"]["inputs"]["parameters"]["serving_state"]["runtimeValue"]["constant"] == ""
    assert all(task["cachingOptions"]["enableCache"] for name, task in tasks.items() if name != "ServingBaseline")


def test_beam_runs_multi_process_with_as_many_workers_as_the_pod_has_cpus(compiled):
    for label, executor in executors(kfr.read_spec(compiled)[0]).items():
        args = executor["container"]["args"]
        assert "--direct_running_mode=multi_processing" in args, label
        assert f"--direct_num_workers={kfr.COMPONENT_CPUS}" in args, label
        assert executor["container"]["resources"]["cpuLimit"] == kfr.COMPONENT_CPUS, label


def test_beam_args_and_no_cache_flags_reach_every_task(tmp_path):
    path = str(tmp_path / "dataflow.yaml")
    beam = "--runner=DataflowRunner --project=p --region=europe-west1 --temp_location=gs://b/tmp"

    assert run_cli(["compile-kubeflow", "--output", path, "--image", IMAGE, "--pipeline-root", "gs://b/root",
                    "--beam-args", beam, "--no-cache"]) == 0
    spec, _ = kfr.read_spec(path)
    assert all(beam.split()[0] in e["container"]["args"] for e in executors(spec).values())
    assert not any(t.get("cachingOptions", {}).get("enableCache") for t in spec["root"]["dag"]["tasks"].values())


def test_json_output_is_a_tfx_pipeline_job_and_submit_asks_for_yaml(tmp_path, capsys):
    path = str(tmp_path / "pipeline.json")
    assert run_cli(["compile-kubeflow", "--output", path, "--image", IMAGE, "--pipeline-root", ROOT]) == 0
    job = json.load(open(path))
    assert job["runtimeConfig"]["gcsOutputDirectory"] == ROOT and "Trainer" in job["pipelineSpec"]["root"]["dag"]["tasks"]

    assert run_cli(["submit", "--host", f"http://127.0.0.1:{closed_local_port()}", "--spec", path]) == 2
    assert "uploads YAML" in one_error_line(capsys)


def test_compile_refuses_a_data_dir_relative_to_this_machine(tmp_path, capsys):
    code = run_cli(["compile-kubeflow", "--output", str(tmp_path / "p.yaml"), "--image", IMAGE, "--pipeline-root", ROOT,
                    "--data-dir", "images"])
    assert code == 2
    assert "--data-dir images" in one_error_line(capsys)
    assert not (tmp_path / "p.yaml").exists()


def test_compile_refuses_a_pipeline_root_kfp_cannot_store_artifacts_in(tmp_path, capsys):
    code = run_cli(["compile-kubeflow", "--output", str(tmp_path / "p.yaml"), "--image", IMAGE, "--pipeline-root", "/mnt/root"])
    assert code == 2
    assert "--pipeline-root /mnt/root" in one_error_line(capsys)


def test_committed_example_spec_is_what_this_checkout_compiles():
    # Fails when code changed and kubernetes/pipeline.yaml was not regenerated (make kubeflow-spec).
    settings = kfr.check_spec_current(COMMITTED_SPEC)
    assert settings["target"]["install_dir"] == kfr.INSTALL_DIR


def test_submit_to_a_closed_port_says_connection_refused_and_names_the_host(compiled, capsys):
    port = closed_local_port()

    assert run_cli(["submit", "--host", f"http://127.0.0.1:{port}", "--spec", compiled, "--timeout", "2"]) == 2
    line = one_error_line(capsys)
    assert f"127.0.0.1:{port}" in line and "connection refused" in line


def _rewrite_settings(source, destination, change):
    spec, platform = kfr.read_spec(source)
    settings = json.loads(spec["pipelineInfo"]["description"])
    change(settings)
    spec["pipelineInfo"]["description"] = json.dumps(settings)
    with open(destination, "w") as handle:
        yaml.safe_dump_all([spec, platform], handle)


def test_submit_refuses_a_spec_this_checkout_no_longer_compiles(compiled, tmp_path, capsys):
    # As if the code had changed since: the stored settings now compile to a different Trainer.
    stale = str(tmp_path / "stale.yaml")
    _rewrite_settings(compiled, stale, lambda s: s["config"].update(epochs=99))

    assert run_cli(["submit", "--host", f"http://127.0.0.1:{closed_local_port()}", "--spec", stale]) == 2
    line = one_error_line(capsys)
    assert stale in line and "is stale" in line and "Trainer" in line


def test_submit_refuses_a_hand_edited_spec(compiled, tmp_path, capsys):
    edited = tmp_path / "edited.yaml"
    edited.write_text(open(compiled).read().replace(IMAGE, "registry.example.com/other:1"))

    assert run_cli(["submit", "--host", "http://127.0.0.1:9", "--spec", str(edited)]) == 2
    assert "edited after it was compiled" in one_error_line(capsys)


# --- The pod entrypoint: TFX executors on the KFP launcher's local artifact copies ---

SCHEMA_TYPE = {"instanceSchema": "title: tfx.Schema\ntype: object\n"}


def _argv(spec_path, label, executor_input):
    args = kfr.read_spec(spec_path)[0]["deploymentSpec"]["executors"][label]["container"]["args"]
    return [json.dumps(executor_input) if arg == "{{$}}" else arg for arg in args]


def _output_uris(output_file):
    output = json.load(open(output_file))
    return {name: listing["artifacts"][0]["uri"] for name, listing in output["artifacts"].items()}


@pytest.mark.parametrize("uri, local", [
    ("minio://mlpipeline/v2/a/b", "/minio/mlpipeline/v2/a/b"),
    ("gs://bucket/a", "/gcs/bucket/a"),
    ("s3://bucket/a", "/s3/bucket/a"),
    ("/already/local", None),
])
def test_artifact_uris_map_to_the_launchers_local_folders(uri, local):
    assert kfe._local_path(uri, "/") == local


def test_a_component_writes_its_output_where_the_launcher_uploads_from(compiled, tmp_path):
    output_file = tmp_path / "kfp_outputs" / "output_metadata.json"
    output_file.parent.mkdir()
    remote = "minio://mlpipeline/v2/artifacts/run-1/ImportSchemaGen/schema"
    executor_input = {
        "inputs": {"parameterValues": {"schema_file": DEFAULT_SCHEMA}},
        "outputs": {"artifacts": {"schema": {"artifacts": [{"name": "", "type": SCHEMA_TYPE, "uri": remote}]}},
                    "outputFile": str(output_file)},
    }

    kfe.run_component(_argv(compiled, "ImportSchemaGen_executor", executor_input), local_root=str(tmp_path))

    written = tmp_path / "minio" / "mlpipeline" / "v2" / "artifacts" / "run-1" / "ImportSchemaGen" / "schema" / "schema.pbtxt"
    assert written.read_text() == open(DEFAULT_SCHEMA).read()
    assert _output_uris(output_file) == {"schema": remote}  # what the launcher records in ML Metadata


def test_the_data_gate_reads_inputs_that_arrive_without_a_type(compiled, tmp_path):
    # KFP's driver may hand inputs over without their artifact type (tensorflow/tfx#7768);
    # the entrypoint takes it from the compiled component spec.
    base = "minio://mlpipeline/v2/artifacts/run-1"
    local = tmp_path / "minio" / "mlpipeline" / "v2" / "artifacts" / "run-1"
    (local / "ImportSchemaGen" / "schema").mkdir(parents=True)
    shutil.copy(DEFAULT_SCHEMA, local / "ImportSchemaGen" / "schema" / "schema.pbtxt")
    for split in ("train", "eval"):  # what ExampleValidator writes for data without anomalies
        (local / "ExampleValidator" / "anomalies" / f"Split-{split}").mkdir(parents=True)
        (local / "ExampleValidator" / "anomalies" / f"Split-{split}" / ANOMALIES_FILE).write_bytes(b"")
    output_file = tmp_path / "kfp_outputs" / "output_metadata.json"
    output_file.parent.mkdir()
    executor_input = {
        "inputs": {"artifacts": {
            "schema": {"artifacts": [{"name": "41", "uri": f"{base}/ImportSchemaGen/schema"}]},
            "anomalies": {"artifacts": [{"name": "42", "uri": f"{base}/ExampleValidator/anomalies",
                                         "metadata": {"split_names": '["train","eval"]',
                                                      BLESSED_PROPERTY: {"train": 1, "eval": 1}}}]},
        }},
        "outputs": {"artifacts": {"validated_schema": {"artifacts": [
            {"name": "", "type": SCHEMA_TYPE, "uri": f"{base}/DataValidationGate/validated_schema"}]}},
            "outputFile": str(output_file)},
    }

    kfe.run_component(_argv(compiled, "DataValidationGate_executor", executor_input), local_root=str(tmp_path))

    assert (local / "DataValidationGate" / "validated_schema" / "schema.pbtxt").read_text() == open(DEFAULT_SCHEMA).read()
    assert _output_uris(output_file) == {"validated_schema": f"{base}/DataValidationGate/validated_schema"}
