"""pipeline/kubeflow/entrypoint.py: a task's compiled command, given what KFP's driver and launcher hand it.

Each test takes a task's command from the committed spec (kubernetes/pipeline.yaml, which
test_kubeflow_compile.py holds to what this checkout compiles) and runs it with the launcher's local
folders under a temporary root. The DataValidationGate task runs as its pod runs it, with an executor
input built as KFP builds it (rehearsal/: provisionOutputs, the ML Metadata round trip of its inputs,
the placeholders).
"""
import json
import os
import shutil
import subprocess
import sys

import pytest
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp_pb2
from tensorflow_metadata.proto.v0 import anomalies_pb2

from components.data_gate import ANOMALIES_FILE, BLESSED_PROPERTY
from pipeline.config import REPO_ROOT
from pipeline.kubeflow import compiler
from pipeline.kubeflow.entrypoint import (
    leave_to_launcher, localize_executor_input, restore_remote_uris, run_component, take_declared_outputs,
)
from pipeline.kubeflow.launcher_paths import local_path_for_uri
from rehearsal import driver, launcher, mlmd_conversion

COMMITTED_SPEC = os.path.join(REPO_ROOT, "kubernetes", "pipeline.yaml")
SCHEMA = os.path.join(REPO_ROOT, "schemas", "horse_or_human", "schema.pbtxt")
RUN_ROOT = "minio://mlpipeline/v2/artifacts/transfer-pipeline/run-1"
# Runs the entrypoint as its __main__ does, with the launcher's folders under a temporary root.
ENTRYPOINT = """
import sys
from pipeline.kubeflow.entrypoint import run_component, start_pod
start_pod([])
run_component(sys.argv[2:], local_root=sys.argv[1])
"""


def test_a_pod_imports_tfxs_entrypoint_without_the_kfp_client():
    imported = subprocess.run([sys.executable, "-c", (
        "import sys\n"
        "from pipeline.kubeflow.entrypoint import start_pod\n"
        "start_pod([])\n"
        "from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor\n"
        "print(sorted(name for name in sys.modules if name.startswith(('kfp.client', 'kfp.dsl'))))\n")],
        capture_output=True, text=True, cwd=REPO_ROOT)
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert imported.stdout.strip().splitlines()[-1] == "[]"


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
    with open(SCHEMA) as source:
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


SCHEMA_TYPE = {"instanceSchema": "title: tfx.Schema\ntype: object\n"}


def _argv(label, executor_input):
    """The executor's compiled args, the executor input in place of its placeholder."""
    args = compiler.read_spec(COMMITTED_SPEC)[0]["deploymentSpec"]["executors"][label]["container"]["args"]
    return [json.dumps(executor_input) if arg == "{{$}}" else arg for arg in args]


def _output_uris(output_file):
    output = json.load(open(output_file))
    return {name: listing["artifacts"][0]["uri"] for name, listing in output["artifacts"].items()}


def test_a_component_writes_its_output_where_the_launcher_uploads_from(tmp_path):
    output_file = tmp_path / "kfp_outputs" / "output_metadata.json"
    output_file.parent.mkdir()
    remote = "minio://mlpipeline/v2/artifacts/run-1/ImportSchemaGen/schema"
    executor_input = {
        "inputs": {"parameterValues": {"schema_file": SCHEMA}},
        "outputs": {"artifacts": {"schema": {"artifacts": [{"name": "", "type": SCHEMA_TYPE, "uri": remote}]}},
                    "outputFile": str(output_file)},
    }

    run_component(_argv("ImportSchemaGen_executor", executor_input), local_root=str(tmp_path))

    written = tmp_path / "minio" / "mlpipeline" / "v2" / "artifacts" / "run-1" / "ImportSchemaGen" / "schema" / "schema.pbtxt"
    assert written.read_text() == open(SCHEMA).read()
    assert _output_uris(output_file) == {"schema": remote}  # what the launcher records in ML Metadata


def test_the_data_gate_reads_inputs_that_arrive_without_a_type(tmp_path):
    # KFP's driver may hand inputs over without their artifact type (tensorflow/tfx#7768);
    # the entrypoint takes it from the compiled component spec.
    base = "minio://mlpipeline/v2/artifacts/run-1"
    local = tmp_path / "minio" / "mlpipeline" / "v2" / "artifacts" / "run-1"
    (local / "ImportSchemaGen" / "schema").mkdir(parents=True)
    shutil.copy(SCHEMA, local / "ImportSchemaGen" / "schema" / "schema.pbtxt")
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

    run_component(_argv("DataValidationGate_executor", executor_input), local_root=str(tmp_path))

    assert (local / "DataValidationGate" / "validated_schema" / "schema.pbtxt").read_text() == open(SCHEMA).read()
    assert _output_uris(output_file) == {"validated_schema": f"{base}/DataValidationGate/validated_schema"}


def test_the_data_gate_passes_clean_data_whose_blessing_took_kfps_metadata_round_trip(tmp_path, kfp_round_trip):
    # KFP's launcher stores ExampleValidator's per-split `blessed` dict as {"struct": {...}} and the
    # gate's driver hands it over that way (converter.go); unread, it blesses no split and every run stops here.
    round_trip = kfp_round_trip
    base = "minio://mlpipeline/v2/artifacts/run-1"
    local = tmp_path / "minio" / "mlpipeline" / "v2" / "artifacts" / "run-1"
    (local / "ImportSchemaGen" / "schema").mkdir(parents=True)
    shutil.copy(SCHEMA, local / "ImportSchemaGen" / "schema" / "schema.pbtxt")
    for split in ("train", "eval"):
        (local / "ExampleValidator" / "anomalies" / f"Split-{split}").mkdir(parents=True)
        (local / "ExampleValidator" / "anomalies" / f"Split-{split}" / ANOMALIES_FILE).write_bytes(b"")
    anomalies = round_trip({"split_names": '["train","eval"]', BLESSED_PROPERTY: {"train": 1, "eval": 1}}, artifact_id=42)
    assert anomalies["metadata"][BLESSED_PROPERTY] == {"struct": {"train": 1.0, "eval": 1.0}}
    output_file = tmp_path / "kfp_outputs" / "output_metadata.json"
    output_file.parent.mkdir()
    executor_input = {
        "inputs": {"artifacts": {
            "schema": {"artifacts": [dict(round_trip({}, artifact_id=41), uri=f"{base}/ImportSchemaGen/schema")]},
            "anomalies": {"artifacts": [dict(anomalies, uri=f"{base}/ExampleValidator/anomalies")]},
        }},
        "outputs": {"artifacts": {"validated_schema": {"artifacts": [
            {"name": "", "type": SCHEMA_TYPE, "uri": f"{base}/DataValidationGate/validated_schema"}]}},
            "outputFile": str(output_file)},
    }

    run_component(_argv("DataValidationGate_executor", executor_input), local_root=str(tmp_path))

    assert (local / "DataValidationGate" / "validated_schema" / "schema.pbtxt").read_text() == open(SCHEMA).read()


def test_the_run_reports_kfp_html_output_type_is_one_tfx_can_import():
    # TFX's entrypoint imports an output's type by its schema title; `system.HTML` (what KFP's UI shows
    # as a page) would be imported as a module named `system`, and RunReport could never start.
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils as tfx_utils

    from pipeline.report.component import HtmlPage

    spec, _ = compiler.read_spec(COMMITTED_SPEC)
    declared = spec["components"]["RunReport"]["outputDefinitions"]["artifacts"]["report"]["artifactType"]
    executor_input = {"outputs": {"artifacts": {"report": {"artifacts": [
        {"name": "", "type": declared, "uri": "minio://mlpipeline/v2/artifacts/run-1/RunReport/report"}]}}}}

    localize_executor_input(executor_input, None, local_root="/nonexistent-root-for-test")
    parsed = kfp_pb2.ExecutorInput()
    json_format.ParseDict(executor_input, parsed)
    [report] = tfx_utils.parse_raw_artifact_dict(parsed.outputs.artifacts, {})["report"]

    assert isinstance(report, HtmlPage) and report.type_name == "system.HTML"


def test_metadata_naming_a_local_copy_is_handed_back_as_its_remote_uri(tmp_path):
    # TFX's Evaluator records the judged model's URI as the blessing's `current_model`: inside the pod
    # that is the launcher's local copy, a folder no other pod or reader can open.
    local, remote = "/minio/mlpipeline/v2/artifacts/run-1/Trainer/u/model", "minio://mlpipeline/v2/artifacts/run-1/Trainer/u/model"
    output_file = tmp_path / "output_metadata.json"
    output_file.write_text(json.dumps({"artifacts": {"blessing": {"artifacts": [{
        "uri": "/minio/mlpipeline/v2/artifacts/run-1/Evaluator/u/blessing",
        "metadata": {"current_model": local, "blessed": 1, "note": "/serving/3"}}]}}}))

    restore_remote_uris(str(output_file), {local: remote, "/minio/mlpipeline/v2/artifacts/run-1/Evaluator/u/blessing":
                                               "minio://mlpipeline/v2/artifacts/run-1/Evaluator/u/blessing"})

    [blessing] = json.loads(output_file.read_text())["artifacts"]["blessing"]["artifacts"]
    assert blessing["uri"] == "minio://mlpipeline/v2/artifacts/run-1/Evaluator/u/blessing"
    assert blessing["metadata"] == {"current_model": remote, "blessed": 1, "note": "/serving/3"}


def test_ingestions_compiled_command_reads_the_window_its_run_parameters_name(tmp_path, horse_or_human_dir):
    # A backfill as `submit --span span-2 --window-spans 1` sends it, of three spans: the pod takes span-2 alone.
    data = tmp_path / "images"
    for label in ("horses", "humans"):
        images = sorted(os.listdir(horse_or_human_dir / label))[::10]  # one view of a subject each
        for number in (1, 2, 3):
            folder = data / f"span-{number}" / label
            folder.mkdir(parents=True)
            for name in images[4 * number - 4:4 * number]:
                shutil.copy(horse_or_human_dir / label / name, folder / name)
    spec, _ = compiler.read_spec(COMMITTED_SPEC)
    task = spec["root"]["dag"]["tasks"]["ImageFolderExampleGen"]
    component = spec["components"][task["componentRef"]["name"]]
    run_parameters = {"span": "span-2", "window_spans": 1}
    executor_input = kfp_pb2.ExecutorInput()
    for name, source in task["inputs"]["parameters"].items():  # driver.go resolveInputs, as rehearsal/run.py does
        if "componentInputParameter" in source:
            value = run_parameters[source["componentInputParameter"]]
        elif "runtimeValue" in source:
            value = str(data) if name == "input_base" else source["runtimeValue"]["constant"]
        else:
            value = "12 files:sha256:aa"  # InputFingerprints' output
        json_format.ParseDict(value, executor_input.inputs.parameter_values[name])
    local_root = str(tmp_path / "pod")
    release = driver.RELEASES["2.17.0"]
    executor_input.outputs.CopyFrom(driver.provision_outputs(
        RUN_ROOT, "ImageFolderExampleGen", component["outputDefinitions"], False, release))
    for listing in executor_input.outputs.artifacts.values():  # prepareOutputFolders
        os.makedirs(os.path.dirname(os.path.join(local_root, local_path_for_uri(listing.artifacts[0].uri).lstrip("/"))), exist_ok=True)
    executor_input.outputs.output_file = os.path.join(local_root, executor_input.outputs.output_file.lstrip("/"))
    container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
    command = launcher.fill_placeholders(container["command"], container["args"], executor_input, release)

    ran = subprocess.run([sys.executable, "-c", ENTRYPOINT, local_root, *command[3:]], capture_output=True, text=True,
                         cwd=REPO_ROOT)

    assert ran.returncode == 0, ran.stderr[-3000:]
    examples = json.load(open(executor_input.outputs.output_file))["artifacts"]["examples"]["artifacts"][0]
    assert examples["metadata"]["span_window"] == ["span-2"]
