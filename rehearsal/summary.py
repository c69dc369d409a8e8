"""What a rehearsal did, as a local run tells it: each task's state and time, the gate's answer, where things went.

Read from the rehearsal's own ML Metadata as KFP stored it (numbers as doubles, dicts
wrapped: pipeline/run_record/metadata.property_value reads either), and from the object store
as any reader of it gets an artifact: by downloading its objects.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from typing import Dict, List, Optional

from pipeline.run_record.metadata import property_value
from pipeline.run_record.record import from_mapping
from rehearsal.run import TaskResult

SUMMARY_FILE = "rehearsal_summary.json"
REPORT_FILE = "report.html"


@dataclasses.dataclass
class FailedTask:
    name: str
    exit_code: Optional[int]
    reason: str
    """As Kubernetes says it: OOMKilled, Error."""
    log: str


@dataclasses.dataclass
class BaselineSeen:
    """What ServingBaseline found serving when the run started."""

    has_baseline: bool
    version: Optional[float] = None
    note: Optional[str] = None


@dataclasses.dataclass
class RehearsalRecord:
    """OUTPUT/rehearsal_summary.json: one rehearsal, the only place its keys are spelled. The gate's and the
    Pusher's fields are None where their task did not run."""

    status: str
    error: Optional[str]
    run_id: str
    seconds: float
    images: int
    pipeline_root: str
    pipeline_root_source: str
    publish_logs: bool
    kfp_backend: str
    tasks: List[TaskResult] = dataclasses.field(default_factory=list)
    failed_task: Optional[FailedTask] = None
    baseline: Optional[BaselineSeen] = None
    blessed: Optional[bool] = None
    eval_accuracy: Dict[str, Optional[float]] = dataclasses.field(default_factory=dict)
    """{candidate or baseline: eval accuracy}."""
    blessing_failures: List[str] = dataclasses.field(default_factory=list)
    pushed: Optional[bool] = None
    pushed_version: Optional[str] = None
    push_note: Optional[str] = None
    report: Optional[str] = None
    """The RunReport page, copied out of the object store."""
    spans: Optional[List[str]] = None
    """The window of spans ingested, oldest first (the examples' span_window); None for a plain data dir."""
    warm_start: Optional[dict] = None
    """The Trainer's word on its head: {"from_version": V} or {"from_version": None, "why_not": ...}."""
    drift_verdict: Optional[str] = None
    """The DriftGate's verdict (ok, drift accepted, no reference) where it completed; a stopped run's gate
    failed, and its checks are in its log."""
    drift_accepted_reason: Optional[str] = None

    @classmethod
    def read(cls, path: str) -> "RehearsalRecord":
        with open(path) as handle:
            return from_mapping(cls, json.load(handle))

    def states(self) -> Dict[str, str]:
        """{task: ran | cached | failed | not run}."""
        return {task.name: task.state for task in self.tasks}

    def task(self, name: str) -> Optional[TaskResult]:
        return next((task for task in self.tasks if task.name == name), None)


def _property(artifact, key: str, default=None):
    if artifact is None or key not in artifact.custom_properties:
        return default
    return property_value(artifact.custom_properties[key])


def summarize(rehearsal, output: str, images: int, seconds: float, error: Optional[str]) -> RehearsalRecord:
    record = RehearsalRecord(
        status="failed" if error else "succeeded", error=error, run_id=rehearsal.run_id, seconds=round(seconds, 1),
        images=images, pipeline_root=rehearsal.pipeline_root, pipeline_root_source=rehearsal.pipeline_root_source,
        publish_logs=rehearsal.settings.publish_logs, kfp_backend=rehearsal.release.version,
        tasks=list(rehearsal.results),
    )
    failed = next((task for task in record.tasks if task.state == "failed"), None)
    if failed:
        record.failed_task = FailedTask(failed.name, failed.exit_code, failed.reason, failed.log)
    with tempfile.TemporaryDirectory() as scratch:
        _data_and_model(rehearsal, record, scratch)
        _gate_and_push(rehearsal, record, output, scratch)
    return record


def _data_and_model(rehearsal, record: RehearsalRecord, scratch: str) -> None:
    """The window ingested (a property of the examples in ML Metadata), the drift gate's verdict and where
    the Trainer's head came from (drift_report.json, training_history.json: downloaded as any reader of
    the object store gets them)."""
    from components import constants
    from components.drift.executor import read_report
    from components.model.training import HISTORY_FILE

    examples = rehearsal.outputs_of("ImageFolderExampleGen").get("examples")
    window = _property(examples, constants.SPAN_WINDOW_PROPERTY)
    record.spans = [str(span) for span in window] if window else None
    drift_report = rehearsal.outputs_of("DriftGate").get("drift_report")
    folder = rehearsal.download(drift_report.uri, os.path.join(scratch, "drift")) if drift_report is not None else None
    report = read_report(folder) if folder else None
    if report:
        record.drift_verdict, record.drift_accepted_reason = report.get("verdict"), report.get("accepted_reason")
    model_run = rehearsal.outputs_of("Trainer").get("model_run")
    folder = rehearsal.download(model_run.uri, os.path.join(scratch, "model_run")) if model_run is not None else None
    if folder and os.path.isfile(os.path.join(folder, HISTORY_FILE)):
        with open(os.path.join(folder, HISTORY_FILE)) as handle:
            record.warm_start = json.load(handle).get("warm_start")


def _gate_and_push(rehearsal, record: RehearsalRecord, output: str, scratch: str) -> None:
    """What the gate decided and what was pushed, read from ML Metadata and from the object store as a reader gets it."""
    from components.promotion.evaluation_report import read_evaluation

    baseline = rehearsal.outputs_of("ServingBaseline").get("baseline_model")
    if baseline is not None:
        record.baseline = BaselineSeen(bool(_property(baseline, "has_baseline", 0)), _property(baseline, "baseline_version"),
                                       _property(baseline, "baseline_note"))
    evaluator = rehearsal.outputs_of("Evaluator")
    if "blessing" in evaluator:
        record.blessed = bool(_property(evaluator["blessing"], "blessed", 0))
    evaluation_dir = rehearsal.download(evaluator["evaluation"].uri, os.path.join(scratch, "evaluation")) if "evaluation" in evaluator else None
    if evaluation_dir:
        evaluation = read_evaluation(evaluation_dir)
        record.eval_accuracy = {model: scores.get("overall", {}).get("accuracy") for model, scores in evaluation["models"].items()}
        record.blessing_failures = evaluation["failures"]
    pushed = rehearsal.outputs_of("Pusher").get("pushed_model")
    if pushed is not None:
        record.pushed = bool(_property(pushed, "pushed", 0))
        record.pushed_version = _property(pushed, "pushed_version") if record.pushed else None
        record.push_note = _property(pushed, "push_note")
    report = rehearsal.outputs_of("RunReport").get("report")
    page = rehearsal.download(report.uri, os.path.join(scratch, "report")) if report is not None else None
    if page and os.path.isfile(page):  # the KFP UI reads a system.HTML artifact's URI as one file
        shutil.copy(page, os.path.join(output, REPORT_FILE))
        record.report = os.path.join(output, REPORT_FILE)


def _phases(task: TaskResult) -> str:
    """' (set-up 14 s, work 27 s, teardown 2 s; launcher 1 s)' for a pod that reported its work's bounds."""
    if task.work_seconds is None:
        return ""
    launcher = f"; launcher {task.launcher_seconds:.0f} s" if task.launcher_seconds is not None else ""
    return (f" (set-up {task.setup_seconds:.0f} s, work {task.work_seconds:.0f} s, "
            f"teardown {task.teardown_seconds:.0f} s{launcher})")


def write_summary(record: RehearsalRecord, output: str) -> None:
    path = os.path.join(output, SUMMARY_FILE)
    with open(path, "w") as handle:
        json.dump(dataclasses.asdict(record), handle, indent=1, sort_keys=True)
    print()
    print(f"rehearsal {record.status} in {record.seconds:.0f} s (run {record.run_id}, {record.images} images)")
    print(f"  as KFP {record.kfp_backend}'s backend; pipeline root: {record.pipeline_root} ({record.pipeline_root_source})")
    for task in record.tasks:
        memory = f"  peak {task.peak_memory_mb / 1000:.2f} GB" if task.peak_memory_mb else ""
        when = f"{task.seconds:6.0f} s" if task.state in ("ran", "failed") else " " * 8
        at = f"  at {task.started_after:4.0f} s" if task.started_after is not None else " " * 9  # tasks overlap
        ended = f"  exit {task.exit_code}: {task.reason}" if task.state == "failed" else ""
        print(f"  {task.name:<24} {task.state:<8}{at} {when}{_phases(task)}{memory}{ended}")
    if record.failed_task:
        failed = record.failed_task
        print(f"  failed: {failed.name} (exit code {failed.exit_code}, {failed.reason}); its log: {failed.log}")
    if record.spans:
        print(f"  spans: {', '.join(record.spans)}")
    if record.drift_verdict:
        accepted = f": {record.drift_accepted_reason}" if record.drift_accepted_reason else ""
        print(f"  drift gate: {record.drift_verdict}{accepted}")
    if record.warm_start is not None:
        started = record.warm_start.get("from_version")
        print(f"  warm start: {f'from serving version {started}' if started is not None else 'none: ' + str(record.warm_start.get('why_not'))}")
    if record.baseline:
        print(f"  baseline: {record.baseline.note}")
    if record.blessed is not None:
        accuracy = record.eval_accuracy.get("candidate")
        shown = f" (eval accuracy {accuracy:.3f})" if accuracy is not None else ""
        failures = "; ".join(record.blessing_failures)
        print(f"  blessed: {'yes' if record.blessed else 'no: ' + (failures or 'below the gate')}{shown}")
    if record.pushed is not None:
        print(f"  {record.push_note}")
    if record.report:
        print(f"  report: {record.report}")
    print(f"  summary: {path}")
