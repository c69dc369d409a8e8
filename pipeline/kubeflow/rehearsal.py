"""The Kubeflow rehearsal: every task of a compiled spec, run as KFP's backend runs it, in the project's image.

For each task, in dependency order (driver.go Container, then launcher_v2.go Execute):
inputs resolved from ML Metadata (artifacts by id, metadata after the round trip),
outputs provisioned under the run's root, the cache fingerprint computed and a hit reused
(cached outputs republished, no pod) when the task's caching is on; otherwise a pod of
the image with only that task's inputs downloaded under /minio, the command and args as
compiled with the placeholders filled, then its executor output merged, its outputs
uploaded and recorded. The object store is a folder (DIR/object-store), ML Metadata a
SQLite file (DIR/metadata.sqlite); both persist, so a second rehearsal in DIR sees the
first one's cache, as a second KFP run would.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
import uuid
from typing import Callable, Dict, List, Optional

from google.protobuf import json_format, struct_pb2
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp_pb2
from ml_metadata.proto import metadata_store_pb2 as mlmd_pb2

from pipeline.kubeflow import kfp_backend
from pipeline.kubeflow.pod import Pod, give_to_pod_user
from pipeline.kubeflow.rehearsal_metadata import RehearsalMetadata

# What the launcher records as store_session_info for KFP's default MinIO (objectstore.Config.SessionInfo).
MINIO_SESSION = json.dumps({"Provider": "minio", "Params": {"region": "minio", "endpoint": "minio-service.kubeflow:9000",
                                                            "disableSSL": "true", "fromEnv": "false"}})
LOG_TAIL_LINES = 30


class RehearsalFailed(RuntimeError):
    """A task failed (its pod exited non-zero, or KFP's backend would have refused it); the message says which."""


@dataclasses.dataclass
class TaskResult:
    name: str
    state: str  # ran | cached | failed | not run
    seconds: float = 0.0
    execution_id: Optional[int] = None
    cached_from: Optional[int] = None
    peak_memory_mb: Optional[float] = None
    log: str = ""


def task_order(spec: dict) -> List[str]:
    """The root DAG's tasks, each after the tasks it depends on (ties by name, as stable output)."""
    tasks = spec["root"]["dag"]["tasks"]
    order, placed = [], set()
    while len(order) < len(tasks):
        ready = sorted(n for n, t in tasks.items() if n not in placed and set(t.get("dependentTasks", [])) <= placed)
        if not ready:
            raise RehearsalFailed(f"the spec's DAG has a cycle among {sorted(set(tasks) - placed)}")
        order.append(ready[0])
        placed.add(ready[0])
    return order


def _check_parameter_type(task: str, name: str, value: struct_pb2.Value, declared: str) -> None:
    """driver.go resolveInputs, handleParamTypeValidationAndConversion: a value must have its declared type."""
    kinds = {"STRING": "string_value", "NUMBER_INTEGER": "number_value", "NUMBER_DOUBLE": "number_value",
             "BOOLEAN": "bool_value", "LIST": "list_value", "STRUCT": "struct_value"}
    if declared in kinds and value.WhichOneof("kind") != kinds[declared]:
        raise RehearsalFailed(f"{task}: input parameter {name!r} is declared {declared} but its value is "
                              f"{json_format.MessageToJson(value, indent=None)} (KFP's driver refuses the task)")


class Rehearsal:
    """One run of a compiled spec. `claims` maps each claim name of the platform spec to a folder here."""

    def __init__(self, spec: dict, platform: dict, workdir: str, claims: Dict[str, str],
                 progress: Callable[[str], None] = print):
        self.spec, self.workdir, self.progress = spec, workdir, progress
        self.pipeline_name = spec["pipelineInfo"]["name"]
        self.run_id = f"rehearsal-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.run_root = kfp_backend.run_root(spec["defaultPipelineRoot"], self.pipeline_name, self.run_id)
        self.object_store = os.path.join(workdir, "object-store")
        self.metadata = RehearsalMetadata(os.path.join(workdir, "metadata.sqlite"))
        self.contexts = self.metadata.run_contexts(self.pipeline_name, self.run_id)
        executors = platform.get("platforms", {}).get("kubernetes", {}).get("deploymentSpec", {}).get("executors", {})
        self.mounts = {label: {m["mountPath"]: claims[m["constant"]] for m in config.get("pvcMount", [])}
                       for label, config in executors.items()}
        self.executions: Dict[str, int] = {}
        self.results: List[TaskResult] = []

    # The object store: minio://BUCKET/KEY is DIR/object-store/minio/BUCKET/KEY.
    def stored_path(self, uri: str) -> str:
        local = kfp_backend.local_path_for_uri(uri)
        if local is None:
            raise RehearsalFailed(f"{uri}: not an object-store URI the launcher knows (gs://, minio://, s3://)")
        return os.path.join(self.object_store, local.lstrip("/"))

    def run(self) -> List[TaskResult]:
        order = task_order(self.spec)
        for number, name in enumerate(order, 1):
            self.progress(f"[{number}/{len(order)}] {name}: starting")
            try:
                result = self.run_task(name)
            except RehearsalFailed:
                self.results.append(TaskResult(name, "failed"))
                self.results += [TaskResult(rest, "not run") for rest in order[number:]]
                raise
            self.results.append(result)
            detail = f"cached (execution {result.cached_from})" if result.state == "cached" else f"ran in {result.seconds:.0f} s"
            if result.peak_memory_mb:
                detail += f", peak memory {result.peak_memory_mb / 1000:.2f} GB"
            self.progress(f"[{number}/{len(order)}] {name}: {detail}")
        return self.results

    def resolve_inputs(self, name: str, task: dict, component: dict) -> kfp_pb2.ExecutorInput.Inputs:
        """driver.go resolveInputs: constants and upstream output parameters, upstream artifacts from ML Metadata."""
        inputs = kfp_pb2.ExecutorInput.Inputs()
        declared = component.get("inputDefinitions", {}).get("parameters", {})
        for key, source in task.get("inputs", {}).get("parameters", {}).items():
            if "runtimeValue" in source:
                json_format.ParseDict(source["runtimeValue"]["constant"], inputs.parameter_values[key])
            elif "taskOutputParameter" in source:
                producer = source["taskOutputParameter"]["producerTask"]
                outputs = self.metadata.output_parameters(self._producer(name, producer))
                wanted = source["taskOutputParameter"]["outputParameterKey"]
                if wanted not in outputs:
                    raise RehearsalFailed(f"{name}: producer task {producer!r} has no output parameter {wanted!r}")
                inputs.parameter_values[key].CopyFrom(outputs[wanted])
            else:
                raise RehearsalFailed(f"{name}: input parameter {key!r} has a source the rehearsal does not know: {source}")
            if key in declared:
                _check_parameter_type(name, key, inputs.parameter_values[key], declared[key]["parameterType"])
        for key, spec in declared.items():
            if key not in inputs.parameter_values and not spec.get("isOptional") and "defaultValue" not in spec:
                raise RehearsalFailed(f"{name}: neither value nor default value provided for non-optional parameter {key!r}")
        for key, source in task.get("inputs", {}).get("artifacts", {}).items():
            producer = source["taskOutputArtifact"]["producerTask"]
            outputs = self.metadata.output_artifacts(self._producer(name, producer))
            wanted = source["taskOutputArtifact"]["outputArtifactKey"]
            if wanted not in outputs:
                raise RehearsalFailed(f"{name}: cannot find output artifact key {wanted!r} in producer task {producer!r}")
            inputs.artifacts[key].artifacts.add().CopyFrom(kfp_backend.to_runtime_artifact(outputs[wanted]))
        return inputs

    def _producer(self, consumer: str, producer: str) -> int:
        if producer not in self.executions:
            raise RehearsalFailed(f"{consumer}: cannot find producer task {producer!r}")
        return self.executions[producer]

    def run_task(self, name: str) -> TaskResult:
        task = self.spec["root"]["dag"]["tasks"][name]
        component = self.spec["components"][task["componentRef"]["name"]]
        label = component["executorLabel"]
        container = self.spec["deploymentSpec"]["executors"][label]["container"]
        executor_input = kfp_pb2.ExecutorInput(
            inputs=self.resolve_inputs(name, task, component),
            outputs=kfp_backend.provision_outputs(self.run_root, name, component.get("outputDefinitions", {})),
        )
        caching = task.get("cachingOptions", {}).get("enableCache", False)
        fingerprint = kfp_backend.cache_fingerprint(executor_input, component, container) if caching else ""
        cached = self.metadata.cached_execution(fingerprint, self.pipeline_name) if caching else None
        execution = self.metadata.create_execution(name, self.pipeline_name, fingerprint, self.contexts)
        self.executions[name] = execution.id
        if cached is not None:  # driver.go reuseCachedOutputs: the same artifacts, published again, no pod
            self.metadata.publish_execution(execution, mlmd_pb2.Execution.CACHED, self.metadata.output_parameters(cached),
                                            self.metadata.output_artifacts(cached), self.contexts)
            return TaskResult(name, "cached", execution_id=execution.id, cached_from=cached)
        return self.launch(name, component, container, executor_input, execution, self.mounts.get(label, {}))

    def launch(self, name, component, container, executor_input, execution, claims) -> TaskResult:
        """launcher_v2.go Execute: download inputs, run the command in the pod, collect and upload outputs, publish."""
        pod = Pod(name=f"{self.run_id}-{name.lower()}", folder=os.path.join(self.workdir, "pods", self.run_id, name), claims=claims)
        pod.prepare()
        self._download_inputs(pod, executor_input)
        self._prepare_output_folders(pod, executor_input)
        with_defaults = kfp_pb2.ExecutorInput()
        with_defaults.CopyFrom(executor_input)
        for key, spec in component.get("inputDefinitions", {}).get("parameters", {}).items():
            if key not in with_defaults.inputs.parameter_values and "defaultValue" in spec:  # addDefaultParams
                json_format.ParseDict(spec["defaultValue"], with_defaults.inputs.parameter_values[key])
        command = kfp_backend.fill_placeholders(list(container.get("command", [])) + list(container.get("args", [])), with_defaults)
        log_path = os.path.join(pod.folder, "pod.log")
        started = time.monotonic()
        exit_code = pod.run(container["image"], command, container.get("resources", {}), log_path)
        seconds = time.monotonic() - started
        peak = _peak_memory_mb(log_path)
        if exit_code != 0:
            self.metadata.publish_execution(execution, mlmd_pb2.Execution.FAILED, None, {}, self.contexts)
            raise RehearsalFailed(f"{name}: the pod exited with code {exit_code} after {seconds:.0f} s; its log "
                                  f"({log_path}) ends:\n{_tail(log_path)}")
        output = self._executor_output(pod, executor_input)
        self._collect_output_parameters(name, pod, executor_input, output, component)
        artifacts = self._upload_outputs(name, pod, executor_input, output)
        self.metadata.publish_execution(execution, mlmd_pb2.Execution.COMPLETE, dict(output.parameter_values), artifacts,
                                        self.contexts)
        pod.remove_scratch()  # as KFP's emptyDirs go with the pod; a failed pod's stay, for reading
        return TaskResult(name, "ran", seconds, execution.id, peak_memory_mb=peak, log=log_path)

    def _download_inputs(self, pod: Pod, executor_input) -> None:
        """launcher_v2.go downloadArtifacts: each input artifact's blob copied to its local path."""
        for listing in executor_input.inputs.artifacts.values():
            if not listing.artifacts:
                continue
            uri = listing.artifacts[0].uri
            if kfp_backend.local_path_for_uri(uri) is None:
                continue  # "does not have a recognized storage URI ... Skipping downloading"
            source, target = self.stored_path(uri), pod.host_path(kfp_backend.local_path_for_uri(uri))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.isdir(source):
                shutil.copytree(source, target, dirs_exist_ok=True)
            elif os.path.isfile(source):
                shutil.copy2(source, target)
            else:
                raise RehearsalFailed(f"failed to download input artifact from remote storage URI {uri}: no such blob")
        give_to_pod_user(pod.scratch("/minio"))

    def _prepare_output_folders(self, pod: Pod, executor_input) -> None:
        """launcher_v2.go prepareOutputFolders: the parent folder of each output's local path (made by the pod's user)."""
        for listing in executor_input.outputs.artifacts.values():
            for artifact in listing.artifacts:
                local = kfp_backend.local_path_for_uri(artifact.uri)
                if local is None:
                    raise RehearsalFailed(f"failed to generate local storage path for output artifact {artifact.uri}")
                os.makedirs(os.path.dirname(pod.host_path(local)), exist_ok=True)
        for root in ("/minio", "/gcs", "/s3"):
            give_to_pod_user(pod.scratch(root))

    def _executor_output(self, pod: Pod, executor_input) -> kfp_pb2.ExecutorOutput:
        """launcher_v2.go getExecutorOutputFile: no file means an empty output."""
        output = kfp_pb2.ExecutorOutput()
        path = pod.host_path(executor_input.outputs.output_file)
        if os.path.isfile(path):
            with open(path) as handle:
                json_format.Parse(handle.read(), output)  # protojson.Unmarshal: unknown fields are an error
        return output

    def _collect_output_parameters(self, name, pod, executor_input, output, component) -> None:
        """launcher_v2.go collectOutputParameters: parameters missing from the output file are read from their files."""
        declared = component.get("outputDefinitions", {}).get("parameters", {})
        for key, parameter in executor_input.outputs.parameters.items():
            if key in output.parameter_values:
                continue
            path = pod.host_path(parameter.output_file)
            try:
                with open(path) as handle:
                    text = handle.read()
            except OSError as err:
                raise RehearsalFailed(f"{name}: failed to read output parameter name={key!r} path={parameter.output_file!r}: {err}") from None
            kind = declared[key]["parameterType"]
            if kind == "STRING":
                output.parameter_values[key].string_value = text
            else:
                json_format.Parse(text, output.parameter_values[key])

    def _upload_outputs(self, name, pod, executor_input, output) -> Dict[str, mlmd_pb2.Artifact]:
        """launcher_v2.go uploadOutputArtifacts: merge the executor's word, upload the local copy, record in ML Metadata."""
        recorded = {}
        for key, listing in executor_input.outputs.artifacts.items():
            if not listing.artifacts:
                continue
            artifact = listing.artifacts[0]
            if key in output.artifacts and output.artifacts[key].artifacts:
                kfp_backend.merge_runtime_artifacts(output.artifacts[key].artifacts[0], artifact)
            local = kfp_backend.local_path_for_uri(artifact.uri)
            if local is None:
                # KFP logs a warning, skips the upload and records the URI as it is: the next task gets nothing.
                self.progress(f"  warning: {name} output {key!r} has URI {artifact.uri!r}, not an object-store URI; "
                              "KFP's launcher skips uploading it")
            else:
                source, target = pod.host_path(local), self.stored_path(artifact.uri)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                if os.path.isdir(source):
                    shutil.copytree(source, target, dirs_exist_ok=True)
                elif os.path.isfile(source):
                    shutil.copy2(source, target)  # components may write no files: KFP allows it
            recorded[key] = self.metadata.record_artifact(key, artifact, MINIO_SESSION)
        return recorded

    def outputs_of(self, task: str) -> Dict[str, mlmd_pb2.Artifact]:
        return self.metadata.output_artifacts(self.executions[task]) if task in self.executions else {}


def _tail(path: str, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return "(no log)"


def _peak_memory_mb(log_path: str) -> Optional[float]:
    """The entrypoint's last line reports the pod's peak memory (pipeline/kubeflow/entrypoint.py)."""
    try:
        with open(log_path, errors="replace") as handle:
            for line in reversed(handle.readlines()[-50:]):
                if line.startswith("peak memory (MB): "):
                    return float(line.split(": ", 1)[1])
    except (OSError, ValueError):
        pass
    return None
