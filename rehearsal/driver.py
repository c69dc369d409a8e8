"""What KFP's driver does before a container task starts, in Python, for the rehearsal.

Each function mirrors a Go function of kubeflow/pipelines (backend/src/v2/driver, .../config,
.../cacheutils), named in its docstring, at the
releases in KFP_BACKEND_VERSIONS, so that a task sees what KFP hands it: the pipeline root
KFP chooses, output URIs under the run's root (with the executor-logs output a stock install
adds), parameters as typed values, and the same cache fingerprint. Where the releases differ,
the docstring says how (kubernetes/README.md lists every difference).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from typing import List, Optional, Tuple

from google.protobuf import json_format, struct_pb2
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp_pb2

from pipeline.kubeflow.launcher_paths import local_path_for_uri


@dataclasses.dataclass(frozen=True)
class BackendRelease:
    """What differs, for a container task, between the KFP backend releases the rehearsal follows.

    Each field cites the Go source at the release that changed it; kubernetes/README.md lists them.
    """

    version: str
    # driver.go provisionOutputs: 2.15+ sets RuntimeArtifact.name to the output key (2.5.0 leaves it
    # empty), and puts the executor output file in the task's local root (2.5.0: /tmp/kfp_outputs).
    names_outputs: bool
    output_file_in_task_root: bool
    # launcher_v2.go qualifyExecutorLogsForRetry (2.17+): executor-logs becomes executor-logs-<retry>.
    logs_retry_suffix: str
    # launcher_v2.go executeV2/uploadOutputArtifacts (2.16+): a failed command's log is still uploaded
    # and recorded; 2.17 never merges the executor output into it and skips it when its file is missing.
    logs_on_failure: bool
    logs_launcher_managed: bool
    # object_store.go DownloadBlob: 2.5.0 writes every key the prefix matches (siblings too); 2.17
    # keeps only the key itself and keys under key + "/" (isBlobKeyUnderPrefix).
    download_siblings: bool
    # driver/cache.go getFingerPrint (2.15+): the mounted claims' names are part of the cache key.
    cache_key_pvc_names: bool
    # launcher_v2.go executeV2 (2.5.0) fills every placeholder in the command word too; compileCmdAndArgs
    # (2.14+) fills only {{$}} there (its other replacements are computed and dropped).
    fills_command_placeholders: bool
    # argocompiler/security_context.go (2.16+): the user container drops every capability and may not escalate.
    drop_capabilities: bool
    # config/env.go getDefaultMinioSessionInfo: the endpoint recorded as store_session_info.
    object_store_endpoint: str


RELEASES = {
    "2.5.0": BackendRelease("2.5.0", names_outputs=False, output_file_in_task_root=False, logs_retry_suffix="",
                            logs_on_failure=False, logs_launcher_managed=False, download_siblings=True,
                            cache_key_pvc_names=False, fills_command_placeholders=True, drop_capabilities=False,
                            object_store_endpoint="minio-service.kubeflow:9000"),
    "2.17.0": BackendRelease("2.17.0", names_outputs=True, output_file_in_task_root=True, logs_retry_suffix="-0",
                             logs_on_failure=True, logs_launcher_managed=True, download_siblings=False,
                             cache_key_pvc_names=True, fills_command_placeholders=False, drop_capabilities=True,
                             object_store_endpoint="seaweedfs.kubeflow:9000"),
}
# 2.5.0 is the backend of Kubeflow 1.10; 2.17.0 the newest release tag of kubeflow/pipelines read. The
# rehearsal runs as the newer one unless told otherwise.
KFP_BACKEND_VERSIONS = tuple(RELEASES)
KFP_BACKEND_VERSION = "2.17.0"
# backend/src/v2/config/env.go: the root when neither the run nor the namespace's ConfigMap names one.
DEFAULT_PIPELINE_ROOT = "minio://mlpipeline/v2/artifacts"
# config/env.go: the ConfigMap KFP reads in the run's namespace, and its key for the root.
LAUNCHER_CONFIGMAP, PIPELINE_ROOT_KEY = "kfp-launcher", "defaultPipelineRoot"
# driver.go provisionOutputs: the output a stock install (PUBLISH_LOGS=true) adds to every container task.
EXECUTOR_LOGS = "executor-logs"
EXECUTOR_LOGS_TYPE = "system.Artifact"
# component/launcher_v2.go OutputMetadataFilepath: the executor output file provisionOutputs names (2.5.0).
OUTPUT_METADATA_FILE = "/tmp/kfp_outputs/output_metadata.json"


def resolve_pipeline_root(run_root: str = "", launcher_configmap: Optional[dict] = None) -> Tuple[str, str]:
    """driver.go RootDAG (2.17: driver/root_dag.go) with config/env.go FromConfigMap and
    Config.DefaultPipelineRoot: (root, where it came from).

    The run's runtime_config.pipeline_root (the driver's RuntimeConfig.GcsOutputDirectory) first, then `defaultPipelineRoot` in the namespace's
    kfp-launcher ConfigMap, then minio://mlpipeline/v2/artifacts. The compiled spec's own
    defaultPipelineRoot is read by no part of the backend.
    """
    if run_root:
        return run_root, "the run's runtime_config.pipeline_root"
    configured = (launcher_configmap or {}).get(PIPELINE_ROOT_KEY, "")
    if configured:
        return configured, f"the {LAUNCHER_CONFIGMAP} ConfigMap's {PIPELINE_ROOT_KEY}"
    return DEFAULT_PIPELINE_ROOT, "KFP's default (config/env.go)"


def generate_output_uri(pipeline_root: str, parts: List[str]) -> str:
    """metadata/client.go GenerateOutputURI (the query string, which this project never uses, left out)."""
    return pipeline_root.split("?")[0].rstrip("/") + "/" + "/".join(p.strip("/") for p in parts)


def run_root(pipeline_root: str, pipeline_name: str, run_id: str) -> str:
    """metadata/client.go GetPipeline: the run's root is PIPELINE_ROOT/PIPELINE_NAME/RUN_ID."""
    return generate_output_uri(pipeline_root, [pipeline_name, run_id])


def provision_outputs(run_root_uri: str, task_name: str, outputs_spec: dict, publish_logs: bool,
                      release: BackendRelease) -> kfp_pb2.ExecutorInput.Outputs:
    """driver.go provisionOutputs: one output artifact per declared output under RUN_ROOT/TASK/UUID/NAME.

    With published logs (PUBLISH_LOGS "true": the API server's manifest and the driver flag's default
    at 2.5.0 and 2.17.0) one more output, `executor-logs` of type system.Artifact, which the launcher
    fills with the command's output (launcher.log_file_path).
    """
    task_root = generate_output_uri(run_root_uri, [task_name, str(uuid.uuid4())])
    output_file = OUTPUT_METADATA_FILE
    if release.output_file_in_task_root and local_path_for_uri(task_root):
        output_file = local_path_for_uri(task_root) + "/output_metadata.json"
    outputs = kfp_pb2.ExecutorInput.Outputs(output_file=output_file)
    artifacts = dict(outputs_spec.get("artifacts", {}))
    if publish_logs:
        artifacts[EXECUTOR_LOGS] = {"artifactType": {"schemaTitle": EXECUTOR_LOGS_TYPE}}
    for name, spec in artifacts.items():
        artifact = outputs.artifacts[name].artifacts.add()
        artifact.uri = generate_output_uri(task_root, [name])
        if release.names_outputs:
            artifact.name = name
        json_format.ParseDict(spec["artifactType"], artifact.type)
        if "metadata" in spec:
            json_format.ParseDict(spec["metadata"], artifact.metadata)
    for name in outputs_spec.get("parameters", {}):
        outputs.parameters[name].output_file = f"/tmp/kfp/outputs/{name}"
    return outputs


def check_parameter_type(task: str, name: str, value: struct_pb2.Value, declared: str) -> Optional[str]:
    """driver.go resolveInputs (handleParamTypeValidationAndConversion): why KFP refuses the value, or None."""
    kinds = {"STRING": "string_value", "NUMBER_INTEGER": "number_value", "NUMBER_DOUBLE": "number_value",
             "BOOLEAN": "bool_value", "LIST": "list_value", "STRUCT": "struct_value"}
    if declared in kinds and value.WhichOneof("kind") != kinds[declared]:
        return (f"{task}: input parameter {name!r} is declared {declared} but its value is "
                f"{json_format.MessageToJson(value, indent=None)} (KFP's driver refuses the task)")
    return None


def cache_fingerprint(executor_input: kfp_pb2.ExecutorInput, component: dict, container: dict,
                      pvc_names: Optional[List[str]] = None) -> str:
    """driver.go getFingerPrint + cacheutils/cache.go GenerateCacheKey and GenerateFingerPrint.

    The key holds the input artifacts' names (ML Metadata ids), the input parameter values,
    the output artifacts' specs with URIs wiped, the output parameters' types, and the image
    with the command and args as compiled (placeholders unreplaced): never the content of a
    folder on a volume. sha256 of the key's JSON (map keys sorted, as Go's encoding/json does).
    2.15 and later add the names of the claims the task mounts (`pvc_names`: pass them for those
    releases), sorted and without repeats (driver/cache.go getFingerPrint); protojson leaves out an empty list.
    """
    inputs, outputs = executor_input.inputs, executor_input.outputs
    key = {
        "inputArtifactNames": {
            name: {"artifactNames": [a.name for a in listing.artifacts]} for name, listing in inputs.artifacts.items()
        },
        "inputParameterValues": {name: json_format.MessageToDict(v) for name, v in inputs.parameter_values.items()},
        "outputArtifactsSpec": {
            name: json_format.MessageToDict(kfp_pb2.RuntimeArtifact(
                name=listing.artifacts[0].name, type=listing.artifacts[0].type, metadata=listing.artifacts[0].metadata))
            for name, listing in outputs.artifacts.items() if listing.artifacts
        },
        "outputParametersSpec": {
            name: spec["parameterType"] for name, spec in component.get("outputDefinitions", {}).get("parameters", {}).items()
        },
        "containerSpec": {"image": container["image"], "cmdArgs": list(container.get("command", [])) + list(container.get("args", []))},
    }
    if pvc_names:
        key["containerSpec"]["pvcNames"] = sorted(set(pvc_names))
    text = json.dumps(key, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
