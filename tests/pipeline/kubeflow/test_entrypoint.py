"""pipeline/kubeflow/entrypoint.py: a task's compiled command, given what KFP's driver and launcher hand it.

The DataValidationGate task runs its exact command from the committed spec (kubernetes/pipeline.yaml),
with an executor input built as KFP builds it (rehearsal/: provisionOutputs, the ML Metadata round
trip of its inputs, the placeholders) and the launcher's local folders under a temporary root.
"""
import json
import os
import subprocess
import sys

import pytest
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp_pb2
from tensorflow_metadata.proto.v0 import anomalies_pb2

from components.data_gate import ANOMALIES_FILE
from pipeline.config import REPO_ROOT
from pipeline.kubeflow import compiler
from pipeline.kubeflow.entrypoint import leave_to_launcher, take_declared_outputs
from pipeline.kubeflow.launcher_paths import local_path_for_uri
from rehearsal import driver, launcher, mlmd_conversion

COMMITTED_SPEC = os.path.join(REPO_ROOT, "kubernetes", "pipeline.yaml")
RUN_ROOT = "minio://mlpipeline/v2/artifacts/transfer-pipeline/run-1"
# Runs the entrypoint as its __main__ does, with the launcher's folders under a temporary root.
ENTRYPOINT = """
import sys
from pipeline.process.startup import start
start([])
from pipeline.kubeflow.entrypoint import run_component
run_component(sys.argv[2:], local_root=sys.argv[1])
"""


def test_the_declared_outputs_flag_is_taken_out_and_undeclared_outputs_are_left_to_the_launcher():
    argv, declared = take_declared_outputs(["--executor_class_path", "x", "--declared_outputs", '["validated_schema"]', "--b=1"])
    assert argv == ["--executor_class_path", "x", "--b=1"] and declared == ["validated_schema"]
    assert take_declared_outputs(["--a"]) == (["--a"], None)
    executor_input = {"outputs": {"artifacts": {"validated_schema": {}, "executor-logs": {}}}}
    assert leave_to_launcher(executor_input, declared) == ["executor-logs"]
    assert list(executor_input["outputs"]["artifacts"]) == ["validated_schema"]


def _recorded(uri, title, metadata, artifact_id):
    """An upstream output as the next task's driver hands it over (RecordArtifact, then toRuntimeArtifact)."""
    runtime = kfp_pb2.RuntimeArtifact(uri=uri, type=kfp_pb2.ArtifactTypeSchema(schema_title=title))
    json_format.ParseDict(metadata, runtime.metadata)
    stored = mlmd_conversion.to_mlmd_artifact(runtime, "out", "{}")
    stored.id = artifact_id
    return mlmd_conversion.to_runtime_artifact(stored)


def _gate_inputs(local_root, anomalies_found=False):
    """The launcher's downloaded copies of ExampleValidator's anomalies and ImportSchemaGen's schema."""
    anomalies_uri, schema_uri = f"{RUN_ROOT}/ExampleValidator/u1/anomalies", f"{RUN_ROOT}/ImportSchemaGen/u2/schema"
    for split in ("train", "eval"):
        anomalies = anomalies_pb2.Anomalies()
        if anomalies_found:
            anomalies.anomaly_info["label"].description = "Unexpected string values: zebras"
        folder = os.path.join(local_root, local_path_for_uri(anomalies_uri).lstrip("/"), f"Split-{split}")
        os.makedirs(folder)
        with open(os.path.join(folder, ANOMALIES_FILE), "wb") as handle:
            handle.write(anomalies.SerializeToString())
    schema_folder = os.path.join(local_root, local_path_for_uri(schema_uri).lstrip("/"))
    os.makedirs(schema_folder)
    with open(os.path.join(REPO_ROOT, "schemas", "horse_or_human", "schema.pbtxt")) as source:
        open(os.path.join(schema_folder, "schema.pbtxt"), "w").write(source.read())
    inputs = kfp_pb2.ExecutorInput.Inputs()
    inputs.artifacts["anomalies"].artifacts.add().CopyFrom(_recorded(
        anomalies_uri, "tfx.ExampleAnomalies", {"split_names": '["train", "eval"]', "blessed": {"train": 1, "eval": 1}}, 11))
    inputs.artifacts["schema"].artifacts.add().CopyFrom(_recorded(schema_uri, "tfx.Schema", {}, 12))
    return inputs


def run_gate(tmp_path, publish_logs, anomalies_found=False):
    spec, _ = compiler.read_spec(COMMITTED_SPEC)
    component = spec["components"]["DataValidationGate"]
    container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
    local_root = str(tmp_path / "pod")
    release = driver.RELEASES["2.17.0"]
    executor_input = kfp_pb2.ExecutorInput(
        inputs=_gate_inputs(local_root, anomalies_found),
        outputs=driver.provision_outputs(RUN_ROOT, "DataValidationGate", component["outputDefinitions"], publish_logs, release))
    launcher.qualify_executor_logs_for_retry(executor_input.outputs, release)
    for listing in executor_input.outputs.artifacts.values():  # prepareOutputFolders
        os.makedirs(os.path.dirname(os.path.join(local_root, local_path_for_uri(listing.artifacts[0].uri).lstrip("/"))), exist_ok=True)
    log_file = launcher.log_file_path(executor_input.outputs)
    if log_file:  # getLogWriter: created before the command starts
        log_file = os.path.join(local_root, log_file.lstrip("/"))
        open(log_file, "w").close()
    executor_input.outputs.output_file = os.path.join(local_root, executor_input.outputs.output_file.lstrip("/"))
    command = launcher.fill_placeholders(container["command"], container["args"], executor_input, release)
    assert command[:3] == ["python", "-m", "pipeline.kubeflow.entrypoint"]
    ran = subprocess.run([sys.executable, "-c", ENTRYPOINT, local_root, *command[3:]], capture_output=True, text=True,
                         cwd=REPO_ROOT)
    output_file = executor_input.outputs.output_file
    output = json.load(open(output_file)) if os.path.isfile(output_file) else None
    validated = os.path.join(local_root, local_path_for_uri(executor_input.outputs.artifacts["validated_schema"].artifacts[0].uri).lstrip("/"))
    return ran, output, validated, log_file


@pytest.mark.parametrize("publish_logs", [True, False], ids=["logs published (stock KFP)", "logs not published"])
def test_the_data_gates_compiled_command_validates_clean_data_and_leaves_the_launchers_log_file(tmp_path, publish_logs):
    ran, output, validated, log_file = run_gate(tmp_path, publish_logs)

    assert ran.returncode == 0, ran.stderr[-3000:]
    assert os.path.isfile(os.path.join(validated, "schema.pbtxt"))
    assert set(output["artifacts"]) == {"validated_schema"}  # the launcher keeps its own word on executor-logs
    assert output["artifacts"]["validated_schema"]["artifacts"][0]["uri"].startswith(RUN_ROOT + "/DataValidationGate/")
    if publish_logs:
        assert os.path.isfile(log_file)  # still the launcher's file: no folder made over it, nothing written in it


def test_the_data_gates_compiled_command_refuses_anomalies_with_the_schema_fix_in_its_message(tmp_path):
    ran, output, validated, _ = run_gate(tmp_path, publish_logs=True, anomalies_found=True)

    assert ran.returncode != 0 and output is None and not os.path.exists(os.path.join(validated, "schema.pbtxt"))
    assert "Unexpected string values: zebras" in ran.stderr and "update the schema in schemas/" in ran.stderr


def test_a_pod_runs_beam_in_process_for_small_data_multi_process_for_large_and_as_compiled_when_told(tmp_path, monkeypatch):
    from pipeline.kubeflow import pod_beam

    images = tmp_path / "images" / "horses"
    images.mkdir(parents=True)
    for n in range(3):
        (images / f"horse{n}-0.png").write_bytes(b"png")
    examples = tmp_path / "examples" / "Split-train"
    examples.mkdir(parents=True)
    (examples / "data.gz").write_bytes(b"x" * 1000)
    monkeypatch.setattr(pod_beam, "pod_cpus", lambda: 4)

    small, why = pod_beam.beam_args_for_pod([], {"inputs": {"parameterValues": {"input_base": str(tmp_path / "images")}}})
    assert small == ["--direct_running_mode=in_memory", "--direct_num_workers=1"] and "3 images" in why
    from_examples, _ = pod_beam.beam_args_for_pod([], {"inputs": {"artifacts": {"examples": {"artifacts": [{"uri": str(tmp_path / "examples")}]}}}})
    assert from_examples == small
    monkeypatch.setattr(pod_beam, "choose_beam_args", lambda images, size, cpus: (
        ["--direct_running_mode=multi_processing", f"--direct_num_workers={cpus}"], "large"))
    large, _ = pod_beam.beam_args_for_pod([], {"inputs": {"parameterValues": {"input_base": str(tmp_path / "images")}}})
    assert large == ["--direct_running_mode=multi_processing", "--direct_num_workers=4"]  # the pod's CPUs, not the node's
    assert pod_beam.beam_args_for_pod(["--runner=DataflowRunner"], {})[0] == []
    assert pod_beam.beam_args_for_pod([], {"inputs": {}})[0] == []
