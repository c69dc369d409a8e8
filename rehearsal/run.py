"""A KFP run of a compiled spec, as KFP's backend and Argo run it, each task in a container of the project's image.

Each task starts once the tasks it depends on have succeeded, beside any other task that may start
(Argo's DAG, as KFP compiles it: Rehearsal.run), and goes through driver.go Container, then
launcher_v2.go Execute:
inputs resolved from ML Metadata (artifacts by id, metadata after the round trip),
outputs provisioned under the run's root (with `executor-logs` when logs are published,
as on a stock install), the cache fingerprint computed and a hit reused (cached outputs
republished, no pod) when the task's caching is on; otherwise a pod of the image whose
inputs are downloaded from the object store by prefix, the command and args as compiled
with the placeholders filled, its output teed into the log file, then its executor output
merged, its files uploaded and its outputs recorded. A task that fails ends the run: its
execution is FAILED, no later task starts (Argo runs a task only once its dependencies
succeeded, and starts none once one has failed), a task already running finishes, and a
rerun reuses every task that completed, through the cache.
The object store (rehearsal/object_store.py) and ML Metadata (a SQLite file) persist in
DIR, so a second run sees the first one's cache, as a second KFP run would.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import threading
import time
import uuid
from typing import Callable, Dict, List, Optional

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2 as kfp_pb2
from ml_metadata.proto import metadata_store_pb2 as mlmd_pb2

from pipeline.kubeflow.launcher_paths import local_path_for_uri
from rehearsal import driver, launcher
from rehearsal.metadata_store import RehearsalMetadata
from rehearsal.mlmd_conversion import to_runtime_artifact
from rehearsal.object_store import ObjectStore
from rehearsal.pod import Pod, give_to_pod_user



def session_info(release: driver.BackendRelease) -> str:
    """What the launcher records as store_session_info for the default store (config/env.go getDefaultMinioSessionInfo)."""
    return json.dumps({"Provider": "minio", "Params": {"region": "minio", "endpoint": release.object_store_endpoint,
                                                       "disableSSL": "true", "fromEnv": "false"}})

LOG_TAIL_LINES = 30


class RehearsalFailed(RuntimeError):
    """A task failed (its pod exited non-zero, or KFP's backend would have refused it); the message says which."""

    def __init__(self, message: str, result: Optional["TaskResult"] = None):
        super().__init__(message)
        self.result = result


@dataclasses.dataclass
class TaskResult:
    name: str
    state: str  # ran | cached | failed | not run
    seconds: float = 0.0
    execution_id: Optional[int] = None
    cached_from: Optional[int] = None
    peak_memory_mb: Optional[float] = None
    log: str = ""
    exit_code: Optional[int] = None
    reason: str = ""  # why a failed task failed, as Kubernetes would say it (OOMKilled, Error)
    # The pod's seconds split by the entrypoint's log lines (pipeline/kubeflow/entrypoint.py WORK_BEGAN/ENDED):
    # set-up (container start, Python, imports) before the component's work, teardown after it (exit, the
    # container removed); launcher: the host's side around the pod (inputs downloaded, outputs uploaded).
    setup_seconds: Optional[float] = None
    work_seconds: Optional[float] = None
    teardown_seconds: Optional[float] = None
    launcher_seconds: Optional[float] = None
    started_after: Optional[float] = None  # seconds from the run's start to the pod's (to the task's, without one)


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


@dataclasses.dataclass
class RunSettings:
    """How the run is submitted and what the install does: the root `submit` sends, published logs, claims."""

    claims: Dict[str, str]  # claim name of the platform spec -> folder here
    pipeline_root: str = ""  # the run's runtime_config.pipeline_root ("" : none sent)
    launcher_configmap: Optional[dict] = None  # the namespace's kfp-launcher ConfigMap data
    publish_logs: bool = True  # PUBLISH_LOGS: "true" on a stock install since 2.5.0
    parameters: Dict[str, object] = dataclasses.field(default_factory=dict)  # runtime_config.parameters `submit` sends
    release: driver.BackendRelease = driver.RELEASES[driver.KFP_BACKEND_VERSION]


class Rehearsal:
    """One run of a compiled spec, submitted with `settings`, in the install kept in `workdir`."""

    def __init__(self, spec: dict, platform: dict, workdir: str, settings: RunSettings,
                 progress: Callable[[str], None] = print):
        self.spec, self.workdir, self.settings, self.progress = spec, workdir, settings, progress
        self.pipeline_name = spec["pipelineInfo"]["name"]
        self.run_id = f"rehearsal-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.pipeline_root, self.pipeline_root_source = driver.resolve_pipeline_root(
            settings.pipeline_root, settings.launcher_configmap)
        self.run_root = driver.run_root(self.pipeline_root, self.pipeline_name, self.run_id)
        self.store = ObjectStore(os.path.join(workdir, "object-store"))
        self.metadata = RehearsalMetadata(os.path.join(workdir, "metadata.sqlite"))
        self.contexts = self.metadata.run_contexts(self.pipeline_name, self.run_id)
        executors = platform.get("platforms", {}).get("kubernetes", {}).get("deploymentSpec", {}).get("executors", {})
        self.claim_names = {label: [(m["constant"], m["mountPath"]) for m in config.get("pvcMount", [])]
                            for label, config in executors.items()}
        self.mounts = {label: {path: settings.claims[claim] for claim, path in mounts}
                       for label, mounts in self.claim_names.items()}
        self.release = settings.release
        self.executions: Dict[str, int] = {}
        self.results: List[TaskResult] = []
        self._bookkeeping = threading.Lock()  # held by a task's driver and launcher work, not by its pod
        self._run_began = time.time()  # set again when run() starts: pods' start times count from it

    def run(self) -> List[TaskResult]:
        """Every task started as soon as the tasks it depends on have succeeded, as Argo runs the DAG KFP compiles.

        KFP's compiler gives each task's driver `depends: <each dependent task>.Succeeded` and sets no
        parallelism on the workflow (backend/src/v2/compiler/argocompiler/dag.go, tag 2.5.0: `driver.Depends =
        depends(task.GetDependentTasks())`, func depends; a parallelism limit only on ParallelFor loops), so
        independent tasks (ImportSchemaGen beside ImageFolderExampleGen, DriftGate beside DataValidationGate and
        Transform) run at once. Once a task has failed, no task starts and the ones running finish: Argo's
        DAGTemplate `failFast`, true by default ("stop scheduling new steps ... then it waits until all DAG nodes are
        completed"), which KFP's compiler leaves unset.
        """
        order = task_order(self.spec)
        tasks = self.spec["root"]["dag"]["tasks"]
        self.progress(f"  pipeline root: {self.pipeline_root} ({self.pipeline_root_source}); logs "
                      f"{'published (executor-logs)' if self.settings.publish_logs else 'not published'}")
        self._run_began = time.time()
        started: Dict[str, float] = {}  # task -> seconds after the run's start, in the order they started
        succeeded: set = set()
        failure: Optional[BaseException] = None
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(order)) as pool:
            running: Dict[concurrent.futures.Future, str] = {}
            while True:
                for name in order if failure is None else ():
                    if name not in started and set(tasks[name].get("dependentTasks", [])) <= succeeded:
                        started[name] = time.time() - self._run_began
                        self.progress(f"[{len(started)}/{len(order)}] {name}: starting")
                        running[pool.submit(self._run_task_in_turn, name)] = name
                if not running:
                    break
                finished, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    number = f"[{list(started).index(name) + 1}/{len(order)}]"
                    error = self._record(future, name, number, started[name], still_running=len(running))
                    if error is None:
                        succeeded.add(name)
                    failure = failure or error
        if failure is not None:
            self.results += [TaskResult(rest, "not run") for rest in order if rest not in started]
        self.results.sort(key=lambda result: order.index(result.name))
        if failure is not None:
            raise failure
        return self.results

    def _record(self, future: concurrent.futures.Future, name: str, number: str, started_after: float,
                still_running: int) -> Optional[BaseException]:
        """A finished task's result into self.results, with its progress line; returns its error, if it failed."""
        try:
            result = future.result()
        except RehearsalFailed as err:
            failed = err.result or TaskResult(name, "failed")
            self.results.append(failed if failed.started_after is not None
                                else dataclasses.replace(failed, started_after=started_after))
            left = f"; {still_running} running task(s) finish first" if still_running else ""
            self.progress(f"{number} {name}: FAILED; no later task starts{left}")
            return err
        except BaseException as err:  # the rehearsal's own error (podman gone): raised once the rest finish
            return err
        if result.started_after is None:  # a cache hit: no pod
            result = dataclasses.replace(result, started_after=started_after)
        self.results.append(result)
        detail = f"cached (execution {result.cached_from})" if result.state == "cached" else f"ran in {result.seconds:.0f} s"
        if result.peak_memory_mb:
            detail += f", peak memory {result.peak_memory_mb / 1000:.2f} GB"
        self.progress(f"{number} {name}: {detail}")
        return None

    def _run_task_in_turn(self, name: str) -> TaskResult:
        """run_task with the run's state to itself (ML Metadata's store, the object store, the executions), but
        for the time its pod runs: pods run side by side, the host's bookkeeping one task at a time."""
        with self._bookkeeping:
            return self.run_task(name)

    def resolve_inputs(self, name: str, task: dict, component: dict) -> kfp_pb2.ExecutorInput.Inputs:
        """driver.go resolveInputs: constants and upstream output parameters, upstream artifacts from ML Metadata."""
        inputs = kfp_pb2.ExecutorInput.Inputs()
        declared = component.get("inputDefinitions", {}).get("parameters", {})
        for key, source in task.get("inputs", {}).get("parameters", {}).items():
            if "runtimeValue" in source:
                json_format.ParseDict(source["runtimeValue"]["constant"], inputs.parameter_values[key])
            elif "componentInputParameter" in source:
                json_format.ParseDict(self.run_parameter(name, source["componentInputParameter"]), inputs.parameter_values[key])
            elif "taskOutputParameter" in source:
                producer = source["taskOutputParameter"]["producerTask"]
                outputs = self.metadata.output_parameters(self._producer(name, producer))
                wanted = source["taskOutputParameter"]["outputParameterKey"]
                if wanted not in outputs:
                    raise RehearsalFailed(f"{name}: producer task {producer!r} has no output parameter {wanted!r}")
                inputs.parameter_values[key].CopyFrom(outputs[wanted])
            else:
                raise RehearsalFailed(f"{name}: input parameter {key!r} has a source the rehearsal does not know: {source}")
            refusal = driver.check_parameter_type(name, key, inputs.parameter_values[key],
                                                  declared[key]["parameterType"]) if key in declared else None
            if refusal:
                raise RehearsalFailed(refusal)
        for key, spec in declared.items():
            if key not in inputs.parameter_values and not spec.get("isOptional") and "defaultValue" not in spec:
                raise RehearsalFailed(f"{name}: neither value nor default value provided for non-optional parameter {key!r}")
        for key, source in task.get("inputs", {}).get("artifacts", {}).items():
            producer = source["taskOutputArtifact"]["producerTask"]
            outputs = self.metadata.output_artifacts(self._producer(name, producer))
            wanted = source["taskOutputArtifact"]["outputArtifactKey"]
            if wanted not in outputs:
                raise RehearsalFailed(f"{name}: cannot find output artifact key {wanted!r} in producer task {producer!r}")
            inputs.artifacts[key].artifacts.add().CopyFrom(to_runtime_artifact(outputs[wanted]))
        return inputs

    def run_parameter(self, task: str, parameter: str):
        """A run parameter of the root DAG, as the root's tasks resolve it.

        KFP's compiler fills the run's runtime_config.parameters with the root's defaultValue for each
        parameter the run did not send (backend/src/v2/compiler/argocompiler/argo.go Compile); the root
        DAG's driver makes them its inputs (backend/src/v2/driver/driver.go RootDAG), and a task's
        componentInputParameter reads its parent DAG's input (driver.go resolveInputParameter), at tags
        2.5.0 and 2.17.0.
        """
        if parameter in self.settings.parameters:
            return self.settings.parameters[parameter]
        wanted = self.spec["root"].get("inputDefinitions", {}).get("parameters", {}).get(parameter, {})
        if "defaultValue" not in wanted:
            raise RehearsalFailed(f"{task}: parent DAG does not have input parameter {parameter!r} (the run sent none "
                                  "and the spec gives no default value)")
        return wanted["defaultValue"]

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
            outputs=driver.provision_outputs(self.run_root, name, component.get("outputDefinitions", {}),
                                             self.settings.publish_logs, self.release),
        )
        claims = self.mounts.get(label, {})
        pvc_names = [claim for claim, _ in self.claim_names.get(label, [])] if self.release.cache_key_pvc_names else None
        caching = task.get("cachingOptions", {}).get("enableCache", False)
        fingerprint = driver.cache_fingerprint(executor_input, component, container, pvc_names) if caching else ""
        cached = self.metadata.cached_execution(fingerprint, self.pipeline_name) if caching else None
        execution = self.metadata.create_execution(name, self.pipeline_name, fingerprint, self.contexts)
        self.executions[name] = execution.id
        if cached is not None:  # driver.go reuseCachedOutputs: the same artifacts, published again, no pod
            self.metadata.publish_execution(execution, mlmd_pb2.Execution.CACHED, self.metadata.output_parameters(cached),
                                            self.metadata.output_artifacts(cached), self.contexts)
            return TaskResult(name, "cached", execution_id=execution.id, cached_from=cached)
        return self.launch(name, component, container, executor_input, execution, claims)

    def launch(self, name, component, container, executor_input, execution, claims) -> TaskResult:
        """launcher_v2.go Execute: download inputs, run the command in the pod, collect and upload outputs, publish."""
        launched = time.monotonic()
        pod = Pod(name=f"{self.run_id}-{name.lower()}", folder=os.path.join(self.workdir, "pods", self.run_id, name), claims=claims)
        pod.prepare()
        launcher.qualify_executor_logs_for_retry(executor_input.outputs, self.release)
        self._download_inputs(pod, executor_input)
        self._prepare_output_folders(pod, executor_input)
        log_file = launcher.log_file_path(executor_input.outputs)
        tee = None
        if log_file:  # getLogWriter: parent made, file created before the command starts
            tee = pod.host_path(log_file)
            os.makedirs(os.path.dirname(tee), exist_ok=True)
            open(tee, "w").close()
            give_to_pod_user(os.path.dirname(tee))
        with_defaults = kfp_pb2.ExecutorInput()
        with_defaults.CopyFrom(executor_input)
        for key, spec in component.get("inputDefinitions", {}).get("parameters", {}).items():
            if key not in with_defaults.inputs.parameter_values and "defaultValue" in spec:  # addDefaultParams
                json_format.ParseDict(spec["defaultValue"], with_defaults.inputs.parameter_values[key])
        command = launcher.fill_placeholders(list(container.get("command", [])), list(container.get("args", [])),
                                             with_defaults, self.release)
        log_path = os.path.join(pod.folder, "pod.log")
        started, started_at = time.monotonic(), time.time()
        self._bookkeeping.release()  # other tasks' drivers and launchers go on while this pod runs
        try:
            ended = pod.run(container["image"], command, container.get("resources", {}), log_path, tee,
                            drop_capabilities=self.release.drop_capabilities)
        finally:
            self._bookkeeping.acquire()
        seconds, ended_at = time.monotonic() - started, time.time()
        peak = _peak_memory_mb(log_path)
        phases = _phases(log_path, started_at, ended_at)
        phases["started_after"] = started_at - self._run_began  # unrounded: start plus seconds orders tasks
        if ended.exit_code != 0:
            # executeV2 returns the command's error: Execute's deferred publish marks the execution FAILED.
            # 2.5.0 uploads and records nothing; 2.16+ uploads and records the log alone.
            logs = {}
            if self.release.logs_on_failure:
                logs = self._upload_outputs(name, pod, executor_input, None, only=driver.EXECUTOR_LOGS)
            self.metadata.publish_execution(execution, mlmd_pb2.Execution.FAILED, None, logs, self.contexts)
            raise RehearsalFailed(
                f"{name}: the pod exited with code {ended.exit_code} ({ended.reason}) after {seconds:.0f} s; "
                f"its log ({log_path}) ends:\n{_tail(log_path)}",
                TaskResult(name, "failed", seconds, execution.id, peak_memory_mb=peak, log=log_path,
                           exit_code=ended.exit_code, reason=ended.reason, **phases))
        output = self._executor_output(pod, executor_input)
        self._collect_output_parameters(name, pod, executor_input, output, component)
        artifacts = self._upload_outputs(name, pod, executor_input, output)
        self.metadata.publish_execution(execution, mlmd_pb2.Execution.COMPLETE, dict(output.parameter_values), artifacts,
                                        self.contexts)
        pod.remove_scratch()  # as KFP's emptyDirs go with the pod; a failed pod's stay, for reading
        launcher_seconds = round(time.monotonic() - launched - seconds, 1)
        return TaskResult(name, "ran", seconds, execution.id, peak_memory_mb=peak, log=log_path, exit_code=0,
                          launcher_seconds=launcher_seconds, **phases)

    def _download_inputs(self, pod: Pod, executor_input) -> None:
        """launcher_v2.go downloadArtifacts: each input's objects, listed by its key as a prefix, to its local path.

        A prefix with no objects downloads nothing and is no error (object_store.go DownloadBlob): the
        consumer then finds no file or folder at the path.
        """
        for listing in executor_input.inputs.artifacts.values():
            if not listing.artifacts:
                continue
            uri = listing.artifacts[0].uri
            local = local_path_for_uri(uri)
            if local is None:
                continue  # "does not have a recognized storage URI ... Skipping downloading"
            self.store.download_blob(uri, pod.host_path(local), siblings=self.release.download_siblings)
        give_to_pod_user(pod.scratch("/minio"))

    def _prepare_output_folders(self, pod: Pod, executor_input) -> None:
        """launcher_v2.go prepareOutputFolders: the parent folder of each output's local path (made by the pod's user)."""
        for listing in executor_input.outputs.artifacts.values():
            for artifact in listing.artifacts:
                local = local_path_for_uri(artifact.uri)
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

    def _upload_outputs(self, name, pod, executor_input, output, only: str = "") -> Dict[str, mlmd_pb2.Artifact]:
        """launcher_v2.go uploadOutputArtifacts: merge the executor's word, upload the files, record in ML Metadata."""
        recorded = {}
        for key, listing in executor_input.outputs.artifacts.items():
            if not listing.artifacts or (only and key != only):
                continue
            artifact = listing.artifacts[0]
            launcher_managed = key == driver.EXECUTOR_LOGS and self.release.logs_launcher_managed
            if output is not None and key in output.artifacts and output.artifacts[key].artifacts and not launcher_managed:
                launcher.merge_runtime_artifacts(output.artifacts[key].artifacts[0], artifact)
            local = local_path_for_uri(artifact.uri)
            if local is None:
                # KFP logs a warning, skips the upload and records the URI as it is: the next task gets nothing.
                self.progress(f"  warning: {name} output {key!r} has URI {artifact.uri!r}, not an object-store URI; "
                              "KFP's launcher skips uploading it")
                if launcher_managed:
                    continue
            else:
                try:
                    self.store.upload_blob(pod.host_path(local), artifact.uri)
                except FileNotFoundError:
                    if launcher_managed:
                        continue  # 2.17: a missing log is neither uploaded nor recorded
                    # "We allow components to not produce output files": recorded all the same
            recorded[key] = self.metadata.record_artifact(key, artifact, session_info(self.release))
        return recorded

    def outputs_of(self, task: str) -> Dict[str, mlmd_pb2.Artifact]:
        return self.metadata.output_artifacts(self.executions[task]) if task in self.executions else {}

    def download(self, uri: str, into: str) -> Optional[str]:
        """An artifact's files as a reader of the object store gets them (the KFP UI, the summary); None if it has none."""
        target = os.path.join(into, "artifact")
        return target if self.store.download_blob(uri, target, siblings=False) else None


def _tail(path: str, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return "(no log)"


def _phases(log_path: str, started_at: float, ended_at: float) -> Dict[str, Optional[float]]:
    """The pod's set-up, work and teardown seconds, from the entrypoint's WORK_BEGAN/WORK_ENDED lines and the
    host's clock around the pod (the same kernel's clock); None where a line is missing (a pod killed early)."""
    from pipeline.kubeflow.entrypoint import WORK_BEGAN, WORK_ENDED

    marks: Dict[str, float] = {}
    try:
        with open(log_path, errors="replace") as handle:
            for line in handle:
                for prefix in (WORK_BEGAN, WORK_ENDED):
                    if line.startswith(prefix):
                        marks[prefix] = float(line[len(prefix):].strip())
    except (OSError, ValueError):
        pass
    began, finished = marks.get(WORK_BEGAN), marks.get(WORK_ENDED)
    return {
        "setup_seconds": round(began - started_at, 1) if began else None,
        "work_seconds": round(finished - began, 1) if began and finished else None,
        "teardown_seconds": round(ended_at - finished, 1) if finished else None,
    }


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
