"""The command of every component container on Kubeflow: TFX's own entrypoint, on local artifact copies.

KFP's launcher downloads inputs to, and uploads outputs from, local folders;
TFX executors read and write artifact.uri, which tf.io.gfile cannot open for
minio:// (KFP's default store). This wrapper points the URIs at those local
copies, runs TFX's kubeflow_v2_run_executor, and hands the launcher the
remote URIs back.
"""
from __future__ import annotations

import json
import os
import resource
import time
from typing import Dict, List, Optional, Tuple

import yaml

from pipeline.kubeflow.launcher_paths import local_path_for_uri
from pipeline.run_record.kfp_values import unwrap_kfp_metadata

# When the component's own work began and ended (wall clock, seconds since the epoch), as log lines: what
# comes before is the pod's set-up (Python, imports, the launcher's files), what comes after its teardown.
# The rehearsal reads them (rehearsal/run.py), so each task's fixed cost is visible in every run.
WORK_BEGAN, WORK_ENDED = "work began at (s since the epoch): ", "work ended at (s since the epoch): "

# The component's own output artifacts, a JSON list the compiler appends to every TFX task's args
# (pipeline/kubeflow/compiler.py). KFP's driver adds outputs of its own to the executor input:
# `executor-logs` (system.Artifact) when logs are published, the default of a stock install since
# KFP 2.5.0 (driver.go provisionOutputs), whose file the launcher has already created
# (launcher_v2.go getLogWriter). Those are the launcher's: TFX never sees them.
DECLARED_OUTPUTS_FLAG = "--declared_outputs"
# Artifact types KFP's UI knows by a `system.` title that TFX's entrypoint would try to import as a
# module path (kubeflow_v2_entrypoint_utils._retrieve_class_path): the class that carries each title.
KFP_SYSTEM_TYPES = {"system.HTML": "pipeline.report.component.HtmlPage"}


def _local_path(uri: str, local_root: str) -> Optional[str]:
    """Where KFP's launcher keeps the artifact's copy in the pod (local_root: "/" except in tests)."""
    local = local_path_for_uri(uri)
    return os.path.join(local_root, local.lstrip("/")) if local else None


def _importable_type(artifact_type: dict) -> dict:
    """The artifact type with a KFP `system.` title replaced by the class TFX must import for it."""
    title = artifact_type.get("schemaTitle")
    if artifact_type.get("instanceSchema"):
        title = (yaml.safe_load(artifact_type["instanceSchema"]) or {}).get("title")
    if title in KFP_SYSTEM_TYPES:
        return {"instanceSchema": f"title: {KFP_SYSTEM_TYPES[title]}\ntype: object\n"}
    return artifact_type


def localize_executor_input(executor_input: dict, inputs_spec: Optional[dict], local_root: str = "/") -> Dict[str, str]:
    """Points artifact URIs at the launcher's local copies; returns {local path: remote URI}.

    KFP's launcher downloads inputs to, and uploads outputs from, local folders;
    TFX executors write to artifact.uri, which tf.io.gfile cannot open for
    minio:// (KFP's default store). Input types are also taken from the compiled
    component spec, which TFX needs to find each artifact's class; input metadata
    is unwrapped (unwrap_kfp_metadata) and `system.` types made importable.
    """
    remote_of = {}
    for side in ("inputs", "outputs"):
        for name, listing in executor_input.get(side, {}).get("artifacts", {}).items():
            for artifact in listing.get("artifacts", []):
                local = _local_path(artifact.get("uri", ""), local_root)
                if local:
                    remote_of[local] = artifact["uri"]
                    artifact["uri"] = local
                    if side == "outputs":
                        os.makedirs(local, exist_ok=True)
                declared = ((inputs_spec or {}).get("artifacts", {}).get(name, {})).get("artifactType")
                if side == "inputs" and declared:
                    artifact["type"] = declared
                if side == "inputs" and artifact.get("metadata"):
                    artifact["metadata"] = unwrap_kfp_metadata(artifact["metadata"])
                if artifact.get("type"):
                    artifact["type"] = _importable_type(artifact["type"])
    return remote_of


def _remote(value: str, remote_of: Dict[str, str]) -> str:
    """A local copy's path (or a path inside it) as the remote URI it stands for; other text unchanged."""
    for local in sorted(remote_of, key=len, reverse=True):
        if value == local or value.startswith(local + "/"):
            return remote_of[local] + value[len(local):]
    return value


def restore_remote_uris(output_file: str, remote_of: Dict[str, str]) -> None:
    """The launcher records and uploads what the executor output names: give it the remote URIs back.

    Metadata too: TFX's Evaluator records the model it judged as the blessing's `current_model`,
    which would otherwise name a folder that exists only inside this pod.
    """
    if not remote_of or not os.path.isfile(output_file):
        return
    with open(output_file) as handle:
        output = json.load(handle)
    for listing in output.get("artifacts", {}).values():
        for artifact in listing.get("artifacts", []):
            artifact["uri"] = _remote(artifact.get("uri", ""), remote_of)
            metadata = artifact.get("metadata", {})
            for key, value in metadata.items():
                if isinstance(value, str):
                    metadata[key] = _remote(value, remote_of)
    with open(output_file, "w") as handle:
        json.dump(output, handle)


def take_declared_outputs(argv: List[str]) -> Tuple[List[str], Optional[List[str]]]:
    """(argv without DECLARED_OUTPUTS_FLAG and its value, the declared output names or None when absent)."""
    argv = list(argv)
    if DECLARED_OUTPUTS_FLAG not in argv:
        return argv, None
    position = argv.index(DECLARED_OUTPUTS_FLAG)
    declared = json.loads(argv[position + 1])
    del argv[position:position + 2]
    return argv, declared


def leave_to_launcher(executor_input: dict, declared: List[str]) -> List[str]:
    """Drops from the executor input every output artifact the component does not declare; returns their names.

    Neither this entrypoint nor TFX's may touch them: TFX makes a folder at every output's path (a
    FileExistsError on the launcher's log file) and would import a module for a `system.` type.
    """
    artifacts = executor_input.get("outputs", {}).get("artifacts", {})
    left = sorted(name for name in artifacts if name not in declared)
    for name in left:
        del artifacts[name]
    return left


def run_component(argv: List[str], local_root: str = "/") -> None:
    """TFX's KFP v2 entrypoint (kubeflow_v2_run_executor), on the launcher's local artifact copies."""
    from pipeline.process.memory import imports_kept_out_of_gc

    with imports_kept_out_of_gc():  # TFX and Beam (pipeline/process/memory.py says why)
        from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor as tfx_entrypoint

        from pipeline.kubeflow.pod_beam import beam_args_for_pod
        from pipeline.process.beam_mode import prepare_local_beam

    # The pod's DirectRunner runs the image's installed packages, and a pod with internet access would
    # otherwise download Prism and run on it.
    prepare_local_beam()
    argv, declared = take_declared_outputs(argv)
    position = argv.index("--json_serialized_invocation_args") + 1
    executor_input = json.loads(argv[position])
    if declared is not None:
        leave_to_launcher(executor_input, declared)
    inputs_spec = None
    if "--json_serialized_inputs_spec_args" in argv:
        inputs_spec = json.loads(argv[argv.index("--json_serialized_inputs_spec_args") + 1])
    remote_of = localize_executor_input(executor_input, inputs_spec, local_root)
    argv[position] = json.dumps(executor_input)
    chosen, why = beam_args_for_pod(argv, executor_input)
    argv += chosen
    print(f"beam: {why}", flush=True)
    print(f"{WORK_BEGAN}{time.time():.3f}", flush=True)
    tfx_entrypoint.main(tfx_entrypoint._parse_flags(argv))  # noqa: SLF001 (the same parsing TFX's own __main__ does)
    print(f"{WORK_ENDED}{time.time():.3f}", flush=True)
    restore_remote_uris(executor_input.get("outputs", {}).get("outputFile", ""), remote_of)


def peak_memory_mb() -> float:
    """The pod's peak memory in MB (10^6 bytes, as KFP's memory settings count in G), as its limit sees it:
    the cgroup's high-water mark, page cache included; where no cgroup file is readable, the largest
    process's peak RSS."""
    for path in ("/sys/fs/cgroup/memory.peak", "/sys/fs/cgroup/memory/memory.max_usage_in_bytes"):
        try:
            with open(path) as handle:
                return int(handle.read().strip()) / 1e6
        except (OSError, ValueError):
            continue
    largest = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return largest * 1024 / 1e6  # ru_maxrss is in KiB


def start_pod(argv: List[str]) -> None:
    """The pod's process settings (pipeline/process/startup.py), before TFX imports TensorFlow.

    A pod runs one component and never the SDK's client. KFP's own switch for its runtime
    (kfp/__init__.py: _KFP_RUNTIME) stops `kfp.pipeline_spec`, which TFX's entrypoint imports, from
    loading kfp.client and kfp.dsl, and the Kubernetes and Google auth clients with them, in every pod.
    """
    from pipeline.process.startup import start

    os.environ.setdefault("_KFP_RUNTIME", "true")
    start(argv)


if __name__ == "__main__":
    import sys

    from pipeline.process.startup import exit_without_teardown

    start_pod(sys.argv[1:])

    run_component(sys.argv[1:])
    # Sizing the pods' requests comes from this line (kubernetes/README.md, "What a run needs").
    print(f"peak memory (MB): {peak_memory_mb():.0f}", flush=True)
    exit_without_teardown(0)  # a failed component raised above and exits 1 the usual way
