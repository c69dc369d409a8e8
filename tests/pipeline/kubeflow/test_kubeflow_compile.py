"""pipeline/kubeflow/compiler.py and pipeline/cli/kubeflow.py: the Kubeflow spec, compile-kubeflow and submit's refusals.

The pod entrypoint's tests are in test_entrypoint.py.

Offline: specs are compiled into tmp_path and read back with the KFP SDK's own
loaders; `submit` is only ever pointed at a closed port on 127.0.0.1.
"""
import argparse
import contextlib
import importlib
import io
import json
import os
import socket
import sys

import pytest
import yaml
from google.protobuf import json_format
from kfp.client.client import _extract_pipeline_yaml  # what create_run_from_pipeline_package uploads
from kfp.components import load_component_from_file
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp_pb2

import pipeline.pipeline  # noqa: F401  (heavy TFX imports and their warnings happen here, not in captured output)
from pipeline.kubeflow import compiler as kfr
from pipeline.config import REPO_ROOT, ConfigError, build_config
from pipeline.cli.kubeflow import DEFAULT_SCHEMA, register
from pipeline.pipeline import create_pipeline

IMAGE = "registry.example.com/transfer-pipeline:9.9.9"
IMAGE_BY_DIGEST = "registry.example.com/transfer-pipeline@sha256:" + "0123456789abcdef" * 4
ROOT = "minio://mlpipeline/v2/artifacts/test"
COMMITTED_SPEC = os.path.join(REPO_ROOT, "kubernetes", "pipeline.yaml")


def run_cli(argv):
    """The two subcommands as pipeline/cli/main.py's main() runs them: exit code, ConfigError as one line."""
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
def compiled_with_output(tmp_path_factory):
    """(spec path, what compile-kubeflow printed) for the image given by tag."""
    path = str(tmp_path_factory.mktemp("spec") / "pipeline.yaml")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert run_cli(["compile-kubeflow", "--output", path, "--image", IMAGE, "--pipeline-root", ROOT]) == 0
    return path, printed.getvalue()


@pytest.fixture(scope="module")
def compiled(compiled_with_output):
    return compiled_with_output[0]


def executors(spec):
    return spec["deploymentSpec"]["executors"]


def tfx_executors(spec):
    """The executors that run a TFX component (all but InputFingerprints, which runs no Beam)."""
    return {label: e for label, e in executors(spec).items() if label != f"{kfr.FINGERPRINT_TASK}_executor"}


def test_spec_holds_every_component_of_the_local_pipeline_running_in_the_image(compiled, tmp_path):
    local_ids = {c.id for c in create_pipeline(build_config(schema_path=DEFAULT_SCHEMA, data_dir=str(tmp_path))).components}
    spec = json_format.MessageToDict(load_component_from_file(compiled).pipeline_spec)

    # The report page, for KFP's UI, and the fingerprints of what the volume and image hold, for KFP's cache.
    assert set(spec["root"]["dag"]["tasks"]) == local_ids | {"RunReport", kfr.FINGERPRINT_TASK}
    assert spec["defaultPipelineRoot"] == ROOT
    for label, executor in executors(spec).items():
        assert executor["container"]["image"] == IMAGE, label
        expected = kfr.FINGERPRINT_COMMAND if label == f"{kfr.FINGERPRINT_TASK}_executor" else kfr.CONTAINER_COMMAND
        assert executor["container"]["command"] == list(expected), label


def node_ids_of_every_pipeline_shape(tmp_path):
    """The node ids of the pipeline as it is built for images and for TFRecords, with its report node, and with
    warm start's node."""
    return {component.id for input_format in ("images", "tfrecord") for warm_start in (False, True)
            for component in create_pipeline(build_config(
                schema_path=DEFAULT_SCHEMA, data_dir=str(tmp_path), input_format=input_format, report_component=True,
                warm_start=warm_start)).components}


def test_every_task_the_compilers_tables_name_is_a_node_of_the_pipeline(tmp_path):
    # A node renamed in pipeline/pipeline.py and not in the tables would silently lose its memory request,
    # its cache rule or its volume.
    assert kfr.named_tasks() - node_ids_of_every_pipeline_shape(tmp_path) == set()
    assert {kfr.node_ids.TRAINER, kfr.node_ids.PUSHER, kfr.node_ids.IMPORT_SCHEMA_GEN} <= kfr.named_tasks()


def test_every_declared_node_id_names_a_node_and_every_node_has_one(tmp_path):
    from components import node_ids

    declared = {value for name, value in vars(node_ids).items() if name.isupper()}
    assert declared == node_ids_of_every_pipeline_shape(tmp_path)


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


def test_the_drift_gate_waits_for_the_example_validator_beside_the_data_gate_and_the_trainer_for_both(compiled):
    # Argo starts a task once every task it depends on has succeeded: the two gates' pods run side by side.
    tasks = json_format.MessageToDict(load_component_from_file(compiled).pipeline_spec)["root"]["dag"]["tasks"]
    assert set(tasks["DriftGate"]["dependentTasks"]) == {"ImageFolderExampleGen", "ExampleValidator"}
    assert "ExampleValidator" in tasks["DataValidationGate"]["dependentTasks"]
    assert {"DataValidationGate", "DriftGate", "Transform"} <= set(tasks["Trainer"]["dependentTasks"])


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


def platform_executors(spec_path):
    """The Kubernetes platform config per executor label, as KFP's client uploads it."""
    document = _extract_pipeline_yaml(spec_path)
    return json_format.MessageToDict(document.platform_spec)["platforms"]["kubernetes"]["deploymentSpec"]["executors"]


def test_an_image_by_tag_is_pulled_afresh_by_every_pod_and_the_cache_caveat_is_printed(compiled_with_output):
    # KFP's pods would otherwise keep a node's old copy of a rebuilt tag (IfNotPresent); the driver reads
    # each executor's config by its label, so an executor without an entry would keep that default.
    path, printed = compiled_with_output
    spec, _ = kfr.read_spec(path)
    configs = platform_executors(path)

    assert set(configs) == set(executors(spec))
    assert {config["imagePullPolicy"] for config in configs.values()} == {"Always"}
    assert not configs["Trainer_executor"].get("pvcMount")  # no mount, an entry all the same
    assert f"pods pull {IMAGE} at every start (imagePullPolicy Always)" in printed
    assert "KFP's cache key holds the image string, not its digest" in printed and "--image NAME@sha256:" in printed


def test_an_image_by_digest_is_pulled_only_when_missing(tmp_path):
    path = str(tmp_path / "pipeline.yaml")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert run_cli(["compile-kubeflow", "--output", path, "--image", IMAGE_BY_DIGEST, "--pipeline-root", ROOT]) == 0
    spec, _ = kfr.read_spec(path)
    configs = platform_executors(path)

    assert {e["container"]["image"] for e in executors(spec).values()} == {IMAGE_BY_DIGEST}
    assert set(configs) == set(executors(spec))
    assert {config["imagePullPolicy"] for config in configs.values()} == {"IfNotPresent"}
    assert configs["Pusher_executor"]["pvcMount"] == [{"constant": kfr.SERVING_PVC, "mountPath": kfr.SERVING_MOUNT}]
    assert "image by tag" not in printed.getvalue() and "imagePullPolicy IfNotPresent" in printed.getvalue()


@pytest.mark.parametrize("image", [
    "registry.example.com/transfer-pipeline@sha256:abc123",  # truncated
    "registry.example.com/transfer-pipeline@sha256:" + "0123456789ABCDEF" * 4,  # digests are lower-case
    "registry.example.com/transfer-pipeline@" + "0123456789abcdef" * 4,  # no algorithm
    "registry.example.com/transfer-pipeline@sha512:" + "0123456789abcdef" * 8,
])
def test_compile_refuses_a_malformed_digest_before_compiling(tmp_path, capsys, image):
    path = tmp_path / "p.yaml"

    assert run_cli(["compile-kubeflow", "--output", str(path), "--image", image, "--pipeline-root", ROOT]) == 2
    line = one_error_line(capsys)
    assert f"--image {image}" in line and "NAME@sha256:" in line and "64 lower-case hex" in line
    assert not path.exists()


def test_only_container_tasks_no_resolver_that_open_source_kfp_rejects(compiled):
    spec, _ = kfr.read_spec(compiled)
    assert all(set(executor) == {"container"} for executor in executors(spec).values())


def test_baseline_lookup_is_never_cached_and_its_compile_time_state_is_blank(compiled):
    tasks = kfr.read_spec(compiled)[0]["root"]["dag"]["tasks"]

    assert tasks["ServingBaseline"]["cachingOptions"] == {"enableCache": False}
    assert tasks["ServingBaseline"]["inputs"]["parameters"]["serving_state"]["runtimeValue"]["constant"] == ""
    assert all(task["cachingOptions"]["enableCache"] for name, task in tasks.items() if name not in kfr.NEVER_CACHED)


def test_without_beam_args_the_spec_names_no_beam_mode_so_each_pod_sizes_its_own(compiled):
    from pipeline.kubeflow.pod_beam import MODE_OPTIONS

    for label, executor in tfx_executors(kfr.read_spec(compiled)[0]).items():
        assert not [a for a in executor["container"]["args"] if a.split("=")[0] in MODE_OPTIONS], label


def test_each_pod_requests_what_its_task_was_measured_to_need_not_8_gib_each(compiled):
    spec, _ = kfr.read_spec(compiled)
    for name, task in spec["root"]["dag"]["tasks"].items():
        resources = executors(spec)[spec["components"][task["componentRef"]["name"]]["executorLabel"]]["container"]["resources"]
        assert resources == kfr.task_resources(name), name
        assert resources["memoryLimit"] == 2 * resources["memoryRequest"], name
    by_task = {name: kfr.task_resources(name) for name in spec["root"]["dag"]["tasks"]}
    assert max(r["memoryRequest"] for r in by_task.values()) <= 4.5  # the Evaluator's, the largest
    assert by_task["Trainer"]["cpuLimit"] == by_task["StatisticsGen"]["cpuLimit"] == kfr.COMPONENT_CPUS  # one per Beam worker
    # Light: the gates, the Pusher, and the Transform, which writes its graph alone without a pass over the data.
    for light in ("Pusher", "Transform"):
        assert by_task[light]["memoryRequest"] == kfr.LIGHT_TASK_MEMORY_GB and by_task[light]["cpuRequest"] < 1


def test_beam_args_and_no_cache_flags_reach_every_task(tmp_path):
    path = str(tmp_path / "dataflow.yaml")
    beam = "--runner=DataflowRunner --project=p --region=europe-west1 --temp_location=gs://b/tmp"

    assert run_cli(["compile-kubeflow", "--output", path, "--image", IMAGE, "--pipeline-root", "gs://b/root",
                    "--beam-args", beam, "--no-cache"]) == 0
    spec, _ = kfr.read_spec(path)
    assert all(beam.split()[0] in e["container"]["args"] for e in tfx_executors(spec).values())
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


def test_new_images_or_an_edited_schema_change_the_cache_key_of_the_tasks_that_read_them(compiled):
    # KFP keys its cache on parameters, never on what a volume holds: the never-cached InputFingerprints
    # task hands ingestion and the schema import a fingerprint of what they read.
    from rehearsal import driver as kfp_backend  # KFP's GenerateCacheKey, as the rehearsal follows it

    spec, platform = kfr.read_spec(compiled)
    tasks = spec["root"]["dag"]["tasks"]
    assert tasks[kfr.FINGERPRINT_TASK]["cachingOptions"] == {"enableCache": False}
    mounts = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert mounts[f"{kfr.FINGERPRINT_TASK}_executor"] == mounts["ImageFolderExampleGen_executor"]
    for task, output in (("ImageFolderExampleGen", "data_fingerprint"), ("ImportSchemaGen", "schema_fingerprint")):
        assert tasks[task]["inputs"]["parameters"][output] == {
            "taskOutputParameter": {"producerTask": kfr.FINGERPRINT_TASK, "outputParameterKey": output}}
        assert kfr.FINGERPRINT_TASK in tasks[task]["dependentTasks"]
        component = spec["components"][task]
        container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
        inputs_spec = json.loads(container["args"][container["args"].index("--json_serialized_inputs_spec_args") + 1])
        assert inputs_spec["parameters"][output] == {"parameterType": "STRING"}  # what TFX's entrypoint types it by

        def key(fingerprint):
            executor_input = kfp_pb2.ExecutorInput()
            for name, source in tasks[task]["inputs"]["parameters"].items():
                value = source["runtimeValue"]["constant"] if "runtimeValue" in source else fingerprint
                json_format.ParseDict(value, executor_input.inputs.parameter_values[name])
            return kfp_backend.cache_fingerprint(executor_input, component, container)

        assert key("12 files:sha256:aa") == key("12 files:sha256:aa")
        assert key("12 files:sha256:aa") != key("13 files:sha256:bb")


def test_the_span_and_the_window_are_run_parameters_that_key_ingestions_cache(compiled):
    from rehearsal import driver as kfp_backend  # KFP's GenerateCacheKey, as the rehearsal follows it

    spec, _ = kfr.read_spec(compiled)
    assert spec["root"]["inputDefinitions"]["parameters"] == {
        "span": {"parameterType": "STRING", "defaultValue": ""},
        "window_spans": {"parameterType": "NUMBER_INTEGER", "defaultValue": 0},
        "accept_drift_reason": {"parameterType": "STRING", "defaultValue": ""},
    }
    tasks = spec["root"]["dag"]["tasks"]
    ingestion = tasks["ImageFolderExampleGen"]["inputs"]["parameters"]
    assert ingestion["newest_span"] == {"componentInputParameter": "span"}  # the executor's property (TFX owns 'span')
    assert ingestion["window_spans"] == {"componentInputParameter": "window_spans"}
    fingerprint_inputs = tasks[kfr.FINGERPRINT_TASK]["inputs"]["parameters"]
    assert fingerprint_inputs["span"] == {"componentInputParameter": "span"}
    assert fingerprint_inputs["window_spans"] == {"componentInputParameter": "window_spans"}
    # What kfp 2.5.0's client embeds in a run holds them too.
    assert set(_extract_pipeline_yaml(compiled).pipeline_spec.root.input_definitions.parameters) == {
        "span", "window_spans", "accept_drift_reason"}

    component = spec["components"]["ImageFolderExampleGen"]
    container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]

    def key(span):
        executor_input = kfp_pb2.ExecutorInput()
        values = {"span": span, "window_spans": 0}
        for name, source in tasks["ImageFolderExampleGen"]["inputs"]["parameters"].items():
            if "runtimeValue" in source:
                value = source["runtimeValue"]["constant"]
            elif "componentInputParameter" in source:
                value = values[source["componentInputParameter"]]
            else:
                value = "12 files:sha256:aa"
            json_format.ParseDict(value, executor_input.inputs.parameter_values[name])
        return kfp_backend.cache_fingerprint(executor_input, component, container)

    assert key("span-2") == key("span-2") and key("span-2") != key("span-1") != key("")


def test_the_run_parameters_default_to_the_compiled_configs_window(tmp_path):
    config = build_config(None, data_dir="/data/images", schema_path=DEFAULT_SCHEMA, span="span-3", window_spans=2)

    spec, _, _ = kfr.compile_spec(config, kfr.KubeflowTarget(image=IMAGE, pipeline_root=ROOT))

    parameters = spec["root"]["inputDefinitions"]["parameters"]
    assert parameters["span"]["defaultValue"] == "span-3" and parameters["window_spans"]["defaultValue"] == 2


def test_a_golden_dir_on_the_data_volume_reaches_ingestion_and_the_data_fingerprint(tmp_path):
    path = tmp_path / "p.yaml"
    assert run_cli(["compile-kubeflow", "--output", str(path), "--image", IMAGE, "--pipeline-root", ROOT,
                    "--golden-dir", "/data/golden"]) == 0
    spec, platform = kfr.read_spec(str(path))
    tasks = spec["root"]["dag"]["tasks"]

    assert tasks[kfr.FINGERPRINT_TASK]["inputs"]["parameters"]["golden_dir"] == {"runtimeValue": {"constant": "/data/golden"}}
    example_gen = {name: value["runtimeValue"]["constant"] for name, value in tasks["ImageFolderExampleGen"]["inputs"]["parameters"].items()
                   if "runtimeValue" in value}
    assert json.loads(example_gen["custom_config"])["custom_config"]["value"]["golden_dir"] == "/data/golden"
    assert [split["name"] for split in json.loads(example_gen["input_config"])["splits"]] == ["train", "eval", "golden"]
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert executors["ImageFolderExampleGen_executor"]["pvcMount"] == [{"constant": kfr.DATA_PVC, "mountPath": kfr.DATA_MOUNT}]


def test_compile_refuses_a_golden_dir_off_the_data_volume(tmp_path, capsys):
    code = run_cli(["compile-kubeflow", "--output", str(tmp_path / "p.yaml"), "--image", IMAGE, "--pipeline-root", ROOT,
                    "--golden-dir", "/mnt/golden"])
    assert code == 2
    assert "golden dir /mnt/golden" in one_error_line(capsys) and not (tmp_path / "p.yaml").exists()


def test_accepting_drift_is_a_run_parameter_the_drift_gate_takes_empty_unless_a_run_sends_it(compiled):
    spec, _ = kfr.read_spec(compiled)
    assert spec["root"]["inputDefinitions"]["parameters"]["accept_drift_reason"] == {"parameterType": "STRING", "defaultValue": ""}
    gate = spec["root"]["dag"]["tasks"]["DriftGate"]["inputs"]["parameters"]
    assert gate["accepted_reason"] == {"componentInputParameter": "accept_drift_reason"}
    assert "accept_drift" not in json.loads(gate["drift_settings"]["runtimeValue"]["constant"])  # one source only
    # What kfp 2.5.0's client embeds in a run takes it too.
    embedded = _extract_pipeline_yaml(compiled).pipeline_spec
    assert embedded.root.dag.tasks["DriftGate"].inputs.parameters["accepted_reason"].component_input_parameter == "accept_drift_reason"


def test_compile_refuses_a_config_that_accepts_drift_and_names_submits_flags(tmp_path, capsys):
    settings = tmp_path / "settings.yaml"
    settings.write_text("accept_drift: true\naccept_drift_reason: hands are the product now\n")

    code = run_cli(["compile-kubeflow", "--output", str(tmp_path / "p.yaml"), "--image", IMAGE, "--pipeline-root", ROOT,
                    "--config", str(settings)])

    assert code == 2 and not (tmp_path / "p.yaml").exists()
    line = one_error_line(capsys)
    assert "would accept drift in every run, scheduled recurring runs included" in line
    assert "`transfer-pipeline submit --accept-drift --reason TEXT`" in line


def test_with_the_drift_gate_off_there_is_no_gate_and_no_acceptance_parameter(tmp_path):
    config = build_config(None, data_dir="/data/images", schema_path=DEFAULT_SCHEMA, drift_gate=False)

    spec, _, _ = kfr.compile_spec(config, kfr.KubeflowTarget(image=IMAGE, pipeline_root=ROOT))

    assert "DriftGate" not in spec["root"]["dag"]["tasks"]
    assert set(spec["root"]["inputDefinitions"]["parameters"]) == {"span", "window_spans"}


# compile-kubeflow as a user runs it, in a fresh process: which of TFX's namespaces it imported.
COMPILE_PROBE = """
import sys
from pipeline.process.startup import start
start([])
from pipeline.cli.main import main
code = main(["compile-kubeflow", "--output", sys.argv[1], "--image", sys.argv[2], "--pipeline-root", sys.argv[3]])
print(code, "tfx.v1" in sys.modules, "google.cloud.aiplatform" in sys.modules)
"""


def test_compiling_imports_tfx_by_its_own_modules_not_the_namespace_that_loads_vertex_ai(tmp_path):
    import subprocess

    spec = tmp_path / "pipeline.yaml"
    result = subprocess.run([sys.executable, "-c", COMPILE_PROBE, str(spec), IMAGE_BY_DIGEST, ROOT], cwd=REPO_ROOT,
                            capture_output=True, text=True, env=dict(os.environ, TF_USE_LEGACY_KERAS="1"))
    assert result.returncode == 0, result.stderr[-2000:]
    # `tfx.v1` imports every extension, Vertex AI's client among them: seconds of every compile.
    assert result.stdout.split()[-3:] == ["0", "False", "False"]
    assert "deploymentSpec" in kfr.read_spec(str(spec))[0]
