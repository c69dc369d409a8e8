"""Kubeflow Pipelines (KFP v2): compile the pipeline to a spec, and run its components in the pods.

compile_spec() builds the same create_pipeline() as the local runner, with the
paths the cluster sees (the schema inside the image, data and
serving dir on mounted volumes), compiles it with TFX's KubeflowV2DagRunner
and adapts the result to open-source KFP. check_spec_current() tells whether a
spec still matches what this checkout compiles. Every component container runs
`python -m pipeline.kubeflow.entrypoint` (pipeline/kubeflow/entrypoint.py).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from typing import List, Tuple

import yaml

from components import node_ids
from pipeline.config import REPO_ROOT, ConfigError, PipelineConfig
from pipeline.kubeflow.entrypoint import DECLARED_OUTPUTS_FLAG

# Where kubernetes/Dockerfile installs the project (editable) and the weights.
INSTALL_DIR = "/opt/transfer-pipeline"
# Volumes kubernetes/storage.yaml claims, and where component pods mount them.
DATA_PVC, DATA_MOUNT = "transfer-pipeline-data", "/data"
SERVING_PVC, SERVING_MOUNT = "transfer-pipeline-serving", "/serving"
DEFAULT_DATA_DIR = DATA_MOUNT + "/images"
# TF Serving's model base path: one integer-named sub-folder per pushed version.
MODEL_NAME = "transfer-classifier"
DEFAULT_SERVING_DIR = f"{SERVING_MOUNT}/{MODEL_NAME}"
# A Beam or TensorFlow task's CPU limit. Without --beam-args each pod picks its Beam mode from the size of
# its data (pipeline/kubeflow/pod_beam.py): in-process when small, else one worker process per CPU of this limit.
COMPONENT_CPUS = 4
# Each pod's memory request in GB (KFP's unit), from the peak each task's pod reached in the Kubeflow
# rehearsal of the full horse-or-human set (915 images, default settings; kubernetes/README.md, "What
# a run needs"), with 18-31% to spare; the limit is twice the request. A task not named here is a
# light one (ImportSchemaGen, the gates, ServingBaseline, Pusher, RunReport: 0.42-0.62 GB; Transform, which
# writes its graph alone without a pass over the data: 0.37 GB, 2026-12-05).
# Every table below names tasks by components/node_ids.py, the ids pipeline/pipeline.py gives them.
TASK_MEMORY_GB = {node_ids.IMAGE_FOLDER_EXAMPLE_GEN: 4, node_ids.IMPORT_EXAMPLE_GEN: 4, node_ids.STATISTICS_GEN: 4,
                  node_ids.TRAINER: 3, node_ids.EVALUATOR: 4.5,
                  # The window's images in memory and the frozen base (not measured in the rehearsal yet;
                  # set as the Trainer's, which builds the same base).
                  node_ids.DRIFT_GATE: 3}
LIGHT_TASK_MEMORY_GB = 1
# Beam and TensorFlow tasks may use all their workers' CPUs; a request of one keeps them schedulable on small nodes.
HEAVY_CPU_REQUEST, LIGHT_CPU_REQUEST, LIGHT_CPU_LIMIT = 1, 0.25, 1
CONTAINER_COMMAND = ("python", "-m", "pipeline.kubeflow.entrypoint")
# The baseline (and the drift gate's reference) is whatever serves now, and the inputs' fingerprints what
# the volume and image hold now: never reuse a cached lookup of either.
FINGERPRINT_TASK = "InputFingerprints"
NEVER_CACHED = (node_ids.SERVING_BASELINE, node_ids.DRIFT_GATE, node_ids.WARM_START_SOURCE, FINGERPRINT_TASK)
# Which task's cache key takes which of InputFingerprints' outputs (pipeline/kubeflow/input_fingerprints.py).
FINGERPRINTED_TASKS = {node_ids.IMAGE_FOLDER_EXAMPLE_GEN: "data_fingerprint", node_ids.IMPORT_EXAMPLE_GEN: "data_fingerprint",
                       node_ids.IMPORT_SCHEMA_GEN: "schema_fingerprint"}
# The tasks that read the data volume (ingestion) and the serving volume (the gates), when the config's
# paths lie on them.
DATA_TASKS = (FINGERPRINT_TASK, node_ids.IMAGE_FOLDER_EXAMPLE_GEN, node_ids.IMPORT_EXAMPLE_GEN)
SERVING_TASKS = (node_ids.SERVING_BASELINE, node_ids.DRIFT_GATE, node_ids.WARM_START_SOURCE, node_ids.PUSHER)
FINGERPRINT_COMMAND = ("python", "-m", "pipeline.kubeflow.input_fingerprints")
COMPILED_BY = "transfer-pipeline compile-kubeflow"
# The run parameters of the spec's root (root.inputDefinitions.parameters). The window's: IngestionSettings'
# RUN_PARAMETERS by their setting names, which span ends the window and how many spans it holds. They reach ImageFolderExampleGen's
# execution properties and the InputFingerprints task, so KFP's cache key holds them (cacheutils/cache.go
# GenerateCacheKey hashes every input parameter value, tag 2.5.0).
SPAN_PARAMETER, WINDOW_PARAMETER = "span", "window_spans"
WINDOW_PARAMETER_NAMES = (SPAN_PARAMETER, WINDOW_PARAMETER)
# Why the drift gate lets a drifted span through, for one run (`submit --accept-drift --reason TEXT`): the
# DriftGate's accepted_reason, always "" by default, so no run of the spec, scheduled ones included, accepts
# drift unless it is sent. Declared only when the pipeline has a DriftGate (never cached: NEVER_CACHED).
ACCEPT_DRIFT_PARAMETER, DRIFT_GATE_ACCEPTANCE = "accept_drift_reason", "accepted_reason"  # run parameter, gate's
RUN_PARAMETER_NAMES = WINDOW_PARAMETER_NAMES + (ACCEPT_DRIFT_PARAMETER,)
# An image named by digest: immutable, so a node's copy is the right one. By tag, a node keeps whatever it
# pulled first under that tag (Kubernetes' default for a tag other than :latest is IfNotPresent).
IMAGE_DIGEST = re.compile(r"[^@\s]+@sha256:[0-9a-f]{64}")


@dataclasses.dataclass(frozen=True)
class KubeflowTarget:
    """What the compiled spec points at in the cluster."""

    image: str
    pipeline_root: str
    data_pvc: str = DATA_PVC
    serving_pvc: str = SERVING_PVC
    install_dir: str = INSTALL_DIR


def cluster_config(config: PipelineConfig, install_dir: str = INSTALL_DIR) -> PipelineConfig:
    """The config as component pods see it; `config.schema_path` must be a schema of this checkout."""
    schema = os.path.abspath(config.schema_path or "")
    schemas_dir = os.path.join(REPO_ROOT, "schemas")
    if not config.schema_path or os.path.commonpath([schema, schemas_dir]) != schemas_dir:
        raise ConfigError(
            f"schema {config.schema_path or '(none)'}: pass --schema with a schema.pbtxt under {schemas_dir}, "
            "so the image (which copies schemas/) holds the same file"
        )
    if config.accept_drift:
        raise ConfigError(
            "accept_drift is set: a spec compiled with it would accept drift in every run, scheduled recurring runs "
            "included; compile without it and accept drift for one run with `transfer-pipeline submit --accept-drift "
            "--reason TEXT`")
    if config.golden_dir and not config.golden_dir.startswith(DATA_MOUNT + "/"):
        raise ConfigError(f"golden dir {config.golden_dir}: give it as the pods see it on the data volume, under "
                          f"{DATA_MOUNT}/ (e.g. {DATA_MOUNT}/golden: copy the golden class folders onto the data claim)")
    beam_args = list(config.beam_args)  # none: each pod chooses by its data's size
    return dataclasses.replace(
        config,
        data_dir=config.data_dir or DEFAULT_DATA_DIR,
        serving_dir=config.serving_dir or DEFAULT_SERVING_DIR,
        schema_path=os.path.join(install_dir, os.path.relpath(schema, REPO_ROOT)),
        weights_cache_dir=None,  # the image's $TRANSFER_PIPELINE_CACHE holds the converted weights
        beam_args=beam_args,
        report_component=True,  # the run report as a page in the KFP UI
    )


def _tfx_job(config: PipelineConfig, target: KubeflowTarget) -> dict:
    # TFX's own module, not `tfx.v1`: that namespace also imports every extension, Vertex AI's client among
    # them, 3.7 s of a 7.5 s compile (google.api_core asks every installed distribution's metadata for each
    # of its packages).
    from tfx.orchestration.kubeflow.v2.kubeflow_v2_dag_runner import KubeflowV2DagRunner, KubeflowV2DagRunnerConfig

    from pipeline.pipeline import create_pipeline

    pipeline = create_pipeline(config)
    pipeline.pipeline_info.pipeline_root = target.pipeline_root
    _window_as_run_parameters(pipeline, config)
    _acceptance_as_run_parameter(pipeline)
    runner = KubeflowV2DagRunner(
        config=KubeflowV2DagRunnerConfig(
            default_image=target.image,
            default_commands=list(CONTAINER_COMMAND),
            # 2.1: typed parameterValues, which is what the KFP 2.x backend fills in.
            use_pipeline_spec_2_1=True,
        )
    )
    return runner.run(pipeline, write_out=False)


def _window_as_run_parameters(pipeline, config: PipelineConfig) -> None:
    """ImageFolderExampleGen's window properties become RuntimeParameters: KFP run parameters, defaulting to the
    config's values, which `submit --span/--window-spans` set per run."""
    from tfx.orchestration.data_types import RuntimeParameter

    from components.ingestion.settings import RUN_PARAMETERS

    if set(RUN_PARAMETERS) != set(WINDOW_PARAMETER_NAMES):
        raise ConfigError(f"IngestionSettings.RUN_PARAMETERS {sorted(RUN_PARAMETERS)} differ from the compiler's run "
                          f"parameters {sorted(WINDOW_PARAMETER_NAMES)}: name them in pipeline/kubeflow/compiler.py too")
    defaults = run_parameter_defaults(config)
    for component in pipeline.components:
        if component.id == node_ids.IMAGE_FOLDER_EXAMPLE_GEN:
            for name, prop in RUN_PARAMETERS.items():
                component.exec_properties[prop] = RuntimeParameter(
                    name=name, ptype=type(defaults[name]), default=defaults[name])


def _acceptance_as_run_parameter(pipeline) -> None:
    """The DriftGate's accepted_reason becomes the run parameter accept_drift_reason, default "" (cluster_config
    refuses a config that accepts drift), which `submit --accept-drift --reason TEXT` sets for one run."""
    from tfx.orchestration.data_types import RuntimeParameter

    for component in pipeline.components:
        if component.id == node_ids.DRIFT_GATE:
            component.exec_properties[DRIFT_GATE_ACCEPTANCE] = RuntimeParameter(
                name=ACCEPT_DRIFT_PARAMETER, ptype=str, default="")


def run_parameter_defaults(config: PipelineConfig) -> dict:
    """{run parameter: the config's value}: what a run that names none of them takes (accept_drift_reason:
    always "", declared only with the drift gate on)."""
    from components.drift.settings import DriftSettings
    from components.ingestion.settings import IngestionSettings

    settings = IngestionSettings.from_config(config)
    defaults = {name: getattr(settings, name) for name in WINDOW_PARAMETER_NAMES}
    if DriftSettings.from_config(config).drift_gate:
        defaults[ACCEPT_DRIFT_PARAMETER] = ""
    return defaults


def _declare_run_parameter_defaults(spec: dict, config: PipelineConfig) -> None:
    """The root's run parameters get their defaults in the spec: TFX's KubeflowV2DagRunner writes a
    RuntimeParameter's default only into the PipelineJob's runtimeConfig, which KFP's client never sends,
    and KFP's compiler fills a parameter the run leaves out from root.inputDefinitions' defaultValue
    (backend/src/v2/compiler/argocompiler/argo.go Compile, tags 2.5.0 and 2.17.0)."""
    declared = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    for name, default in run_parameter_defaults(config).items():
        if name in declared:
            declared[name]["defaultValue"] = default


def image_pull_policy(image: str) -> str:
    """IfNotPresent for an image given by digest, Always for one given by tag, so no pod runs a node's stale copy."""
    if "@" not in image:
        return "Always"
    if not IMAGE_DIGEST.fullmatch(image):
        raise ConfigError(
            f"--image {image}: not an image digest reference; give NAME@sha256: followed by 64 lower-case hex "
            "digits (what `make kubeflow-image` prints) or NAME:TAG"
        )
    return "IfNotPresent"


def _kubernetes_platform(spec: dict, config: PipelineConfig, target: KubeflowTarget) -> dict:
    """KFP's Kubernetes platform spec: every executor's image pull policy, and which claim each one mounts
    (data for ingestion, serving for the gate).

    KFP's driver reads an executor's entry by its executor label and applies `imagePullPolicy` to the
    component's container (kubeflow/pipelines backend/src/v2/driver/driver.go, extendPodSpecPatch, 2.3+),
    so every executor is listed, with or without mounts.
    """
    policy = image_pull_policy(target.image)
    executors = {label: {"imagePullPolicy": policy} for label in spec["deploymentSpec"]["executors"]}
    wanted = [(task, path, target.data_pvc, DATA_MOUNT) for task in DATA_TASKS for path in (config.data_dir, config.golden_dir) if path]
    wanted += [(task, config.serving_path, target.serving_pvc, SERVING_MOUNT) for task in SERVING_TASKS]
    for task, path, claim, mount in wanted:
        if task in spec["components"] and (path == mount or path.startswith(mount + "/")):
            label = spec["components"][task]["executorLabel"]
            executors[label]["pvcMount"] = [{"constant": claim, "mountPath": mount}]
    return {"platforms": {"kubernetes": {"deploymentSpec": {"executors": executors}}}}


def _add_input_fingerprints(spec: dict, config: PipelineConfig, target: KubeflowTarget) -> None:
    """A never-cached InputFingerprints task whose output parameters key ingestion's and the schema import's cache.

    KFP's cache key holds parameter values, not what a volume or the image holds
    (pipeline/kubeflow/input_fingerprints.py says why); each fingerprinted task gets one
    more input parameter, declared in its component and in the inputs spec TFX's
    entrypoint reads, so the executor receives it as an unused exec property.
    """
    tasks, components = spec["root"]["dag"]["tasks"], spec["components"]
    schema_file = tasks[node_ids.IMPORT_SCHEMA_GEN]["inputs"]["parameters"]["schema_file"]["runtimeValue"]["constant"]
    string = {"parameterType": "STRING"}
    components[FINGERPRINT_TASK] = {
        "executorLabel": f"{FINGERPRINT_TASK}_executor",
        "inputDefinitions": {"parameters": {"data_dir": string, "schema_file": string}},
        "outputDefinitions": {"parameters": {name: string for name in sorted(set(FINGERPRINTED_TASKS.values()))}},
    }
    spec["deploymentSpec"]["executors"][f"{FINGERPRINT_TASK}_executor"] = {"container": {
        "image": target.image, "command": list(FINGERPRINT_COMMAND), "args": ["--executor_input", "{{$}}"],
    }}
    tasks[FINGERPRINT_TASK] = {
        "taskInfo": {"name": FINGERPRINT_TASK},
        "componentRef": {"name": FINGERPRINT_TASK},
        "inputs": {"parameters": {"data_dir": {"runtimeValue": {"constant": config.data_dir}},
                                  "schema_file": {"runtimeValue": {"constant": schema_file}}}},
    }
    if node_ids.IMAGE_FOLDER_EXAMPLE_GEN in tasks:
        # Image folders: the fingerprint covers the window's files alone, scanned as the ExampleGen scans them.
        root_parameters = spec["root"]["inputDefinitions"]["parameters"]
        fingerprint_inputs = components[FINGERPRINT_TASK]["inputDefinitions"]["parameters"]
        task_inputs = tasks[FINGERPRINT_TASK]["inputs"]["parameters"]
        for name in WINDOW_PARAMETER_NAMES:
            fingerprint_inputs[name] = {"parameterType": root_parameters[name]["parameterType"]}
            task_inputs[name] = {"componentInputParameter": name}
        fingerprint_inputs["group_pattern"] = dict(string)
        task_inputs["group_pattern"] = {"runtimeValue": {"constant": config.group_pattern}}
        if config.golden_dir:  # the golden folder's files too (input_fingerprints.golden_fingerprint)
            fingerprint_inputs["golden_dir"] = dict(string)
            task_inputs["golden_dir"] = {"runtimeValue": {"constant": config.golden_dir}}
    for name, output in FINGERPRINTED_TASKS.items():
        if name not in tasks:
            continue
        task, component = tasks[name], components[tasks[name]["componentRef"]["name"]]
        task.setdefault("inputs", {}).setdefault("parameters", {})[output] = {
            "taskOutputParameter": {"producerTask": FINGERPRINT_TASK, "outputParameterKey": output}}
        task["dependentTasks"] = sorted(set(task.get("dependentTasks", [])) | {FINGERPRINT_TASK})
        component.setdefault("inputDefinitions", {}).setdefault("parameters", {})[output] = dict(string)
        args = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]["args"]
        position = args.index("--json_serialized_inputs_spec_args") + 1
        args[position] = json.dumps(component["inputDefinitions"], indent=2, sort_keys=True)


def named_tasks() -> set:
    """Every pipeline node the tables above name (the compiler's own InputFingerprints task left out)."""
    named = set(TASK_MEMORY_GB) | set(NEVER_CACHED) | set(FINGERPRINTED_TASKS) | set(DATA_TASKS) | set(SERVING_TASKS)
    return named - {FINGERPRINT_TASK}


def task_resources(task: str) -> dict:
    """A task pod's requests and limits, in KFP's units (CPUs, GB)."""
    memory = TASK_MEMORY_GB.get(task, LIGHT_TASK_MEMORY_GB)
    heavy = task in TASK_MEMORY_GB
    return {
        "cpuRequest": HEAVY_CPU_REQUEST if heavy else LIGHT_CPU_REQUEST, "cpuLimit": COMPONENT_CPUS if heavy else LIGHT_CPU_LIMIT,
        "memoryRequest": memory, "memoryLimit": 2 * memory,
    }


def _adapt_to_cluster(spec: dict, config: PipelineConfig, target: KubeflowTarget) -> None:
    spec["defaultPipelineRoot"] = target.pipeline_root
    _declare_run_parameter_defaults(spec, config)
    _add_input_fingerprints(spec, config, target)
    for name, task in spec["root"]["dag"]["tasks"].items():
        if name in NEVER_CACHED:
            task["cachingOptions"] = {"enableCache": False}
            parameters = task.get("inputs", {}).get("parameters", {})
            if "serving_state" in parameters:
                # A local-run cache key (the serving dir's state when the DAG was built); meaningless here.
                parameters["serving_state"] = {"runtimeValue": {"constant": ""}}
    for name, task in spec["root"]["dag"]["tasks"].items():
        component = spec["components"][task["componentRef"]["name"]]
        container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
        container["resources"] = task_resources(name)
        if tuple(container.get("command", ())) == CONTAINER_COMMAND:
            # KFP's driver may add outputs the component never declared (`executor-logs`, on a stock
            # install); the entrypoint hands TFX only these and leaves the rest to the launcher.
            declared = sorted(component.get("outputDefinitions", {}).get("artifacts", {}))
            container["args"] = list(container["args"]) + [DECLARED_OUTPUTS_FLAG, json.dumps(declared)]


def spec_fingerprint(spec: dict, platform: dict) -> str:
    """sha256 of the spec as compiled (its description, which carries the fingerprint, left out)."""
    content = dict(spec, pipelineInfo={k: v for k, v in spec["pipelineInfo"].items() if k != "description"})
    text = json.dumps({"pipelineSpec": content, "platformSpec": platform}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def compile_cluster_config(config: PipelineConfig, target: KubeflowTarget) -> Tuple[dict, dict, dict]:
    """(pipeline spec, platform spec, TFX PipelineJob) for a config already in cluster form."""
    job = _tfx_job(config, target)
    spec = job["pipelineSpec"]
    _adapt_to_cluster(spec, config, target)
    platform = _kubernetes_platform(spec, config, target)
    spec["pipelineInfo"]["description"] = json.dumps(
        {
            "compiled_by": COMPILED_BY,
            "fingerprint": spec_fingerprint(spec, platform),
            "target": dataclasses.asdict(target),
            "config": dataclasses.asdict(config),
        },
        sort_keys=True,
    )
    return spec, platform, job


def compile_spec(config: PipelineConfig, target: KubeflowTarget) -> Tuple[dict, dict, dict]:
    return compile_cluster_config(cluster_config(config, target.install_dir), target)


def write_spec(path: str, spec: dict, platform: dict, job: dict) -> None:
    """YAML: what KFP's client uploads (platform spec as a second document). JSON: TFX's PipelineJob (Vertex AI)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if path.endswith((".yaml", ".yml")):
        header = (
            f"# Kubeflow Pipelines spec of {spec['pipelineInfo']['name']}, generated by `{COMPILED_BY}`: do not edit.\n"
            "# Recompile it (see kubernetes/README.md); `transfer-pipeline submit` refuses a stale one.\n"
        )
        text = header + yaml.safe_dump(spec, sort_keys=True)
        if platform:
            text += "---\n" + yaml.safe_dump(platform, sort_keys=True)
    elif path.endswith(".json"):
        job = dict(job, pipelineSpec=spec)
        job["runtimeConfig"] = dict(job.get("runtimeConfig", {}), gcsOutputDirectory=spec["defaultPipelineRoot"])
        text = json.dumps(job, sort_keys=True, indent=1) + "\n"
    else:
        raise ConfigError(f"{path}: the spec file must end in .yaml, .yml or .json")
    with open(path, "w") as handle:
        handle.write(text)


def read_spec(path: str) -> Tuple[dict, dict]:
    """(pipeline spec, platform spec) from a file write_spec() wrote."""
    try:
        with open(path) as handle:
            if path.endswith(".json"):
                document = json.load(handle)
                return document.get("pipelineSpec", document), {}
            documents = [d for d in yaml.safe_load_all(handle) if d]
    except FileNotFoundError:
        raise ConfigError(f"spec file {path} does not exist; create it with `{COMPILED_BY} --output {path} ...`") from None
    except (yaml.YAMLError, json.JSONDecodeError) as err:
        raise ConfigError(f"spec file {path} is not valid YAML/JSON: {err}") from None
    if not documents or "pipelineInfo" not in documents[0]:
        raise ConfigError(f"spec file {path} holds no pipeline spec (no pipelineInfo)")
    return documents[0], (documents[1] if len(documents) > 1 else {})


def spec_settings(path: str, spec: dict) -> dict:
    try:
        settings = json.loads(spec["pipelineInfo"].get("description") or "")
    except json.JSONDecodeError:
        settings = {}
    if not isinstance(settings, dict) or settings.get("compiled_by") != COMPILED_BY:
        raise ConfigError(f"{path} was not compiled by `{COMPILED_BY}` (its description carries no compile settings)")
    return settings


def _differing_parts(old: dict, new: dict) -> List[str]:
    parts = []
    for section, key in (("components", None), ("deploymentSpec", "executors"), ("root", "dag")):
        a, b = old.get(section, {}), new.get(section, {})
        if key:
            a, b = a.get(key, {}), b.get(key, {})
        if section == "root":
            a, b = a.get("tasks", {}), b.get("tasks", {})
        parts += [name for name in sorted(set(a) | set(b)) if a.get(name) != b.get(name)]
    return sorted(set(parts)) or ["pipeline-level settings"]


def check_spec_current(path: str) -> dict:
    """Recompiles this checkout with the settings stored in the spec; raises ConfigError when they differ."""
    spec, platform = read_spec(path)
    settings = spec_settings(path, spec)
    recorded = settings.get("fingerprint")
    if spec_fingerprint(spec, platform) != recorded:
        raise ConfigError(f"{path} was edited after it was compiled (its content no longer matches its fingerprint); recompile it")
    try:
        target = KubeflowTarget(**settings["target"])
        config = PipelineConfig(**settings["config"])
    except TypeError as err:
        raise ConfigError(f"{path} is stale: its compile settings no longer fit this checkout ({err}); recompile it") from None
    fresh, fresh_platform, _ = compile_cluster_config(config, target)
    if spec_fingerprint(fresh, fresh_platform) != recorded:
        raise ConfigError(
            f"{path} is stale: this checkout compiles a different pipeline with the same settings "
            f"(changed: {', '.join(_differing_parts(spec, fresh))}); recompile it (`make kubeflow-spec` for the "
            "committed example) and rebuild the image from this checkout"
        )
    return settings
