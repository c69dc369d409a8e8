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
from typing import Optional

from pipeline.run_record.metadata import property_value

SUMMARY_FILE = "rehearsal_summary.json"
REPORT_FILE = "report.html"


def _property(artifact, key: str, default=None):
    if artifact is None or key not in artifact.custom_properties:
        return default
    return property_value(artifact.custom_properties[key])


def summarize(rehearsal, output: str, images: int, seconds: float, error: Optional[str]) -> dict:
    tasks = [dataclasses.asdict(result) for result in rehearsal.results]
    summary = {
        "status": "failed" if error else "succeeded",
        "error": error,
        "run_id": rehearsal.run_id,
        "seconds": round(seconds, 1),
        "images": images,
        "pipeline_root": rehearsal.pipeline_root,
        "pipeline_root_source": rehearsal.pipeline_root_source,
        "publish_logs": rehearsal.settings.publish_logs,
        "kfp_backend": rehearsal.release.version,
        "tasks": tasks,
    }
    failed = next((task for task in tasks if task["state"] == "failed"), None)
    if failed:
        summary["failed_task"] = {"name": failed["name"], "exit_code": failed["exit_code"], "reason": failed["reason"],
                                  "log": failed["log"]}
    with tempfile.TemporaryDirectory() as scratch:
        _gate_and_push(rehearsal, summary, output, scratch)
    return summary


def _gate_and_push(rehearsal, summary: dict, output: str, scratch: str) -> None:
    """What the gate decided and what was pushed, read from ML Metadata and from the object store as a reader gets it."""
    from components.promotion.evaluation_report import read_evaluation

    baseline = rehearsal.outputs_of("ServingBaseline").get("baseline_model")
    if baseline is not None:
        summary["baseline"] = {
            "has_baseline": bool(_property(baseline, "has_baseline", 0)),
            "version": _property(baseline, "baseline_version"),
            "note": _property(baseline, "baseline_note"),
        }
    evaluator = rehearsal.outputs_of("Evaluator")
    if "blessing" in evaluator:
        summary["blessed"] = bool(_property(evaluator["blessing"], "blessed", 0))
    evaluation_dir = rehearsal.download(evaluator["evaluation"].uri, os.path.join(scratch, "evaluation")) if "evaluation" in evaluator else None
    if evaluation_dir:
        evaluation = read_evaluation(evaluation_dir)
        summary["eval_accuracy"] = {model: scores.get("overall", {}).get("accuracy") for model, scores in evaluation["models"].items()}
        summary["blessing_failures"] = evaluation["failures"]
    pushed = rehearsal.outputs_of("Pusher").get("pushed_model")
    if pushed is not None:
        summary["pushed"] = bool(_property(pushed, "pushed", 0))
        summary["pushed_version"] = _property(pushed, "pushed_version") if summary["pushed"] else None
        summary["push_note"] = _property(pushed, "push_note")
    report = rehearsal.outputs_of("RunReport").get("report")
    page = rehearsal.download(report.uri, os.path.join(scratch, "report")) if report is not None else None
    if page and os.path.isfile(page):  # the KFP UI reads a system.HTML artifact's URI as one file
        shutil.copy(page, os.path.join(output, REPORT_FILE))
        summary["report"] = os.path.join(output, REPORT_FILE)


def write_summary(summary: dict, output: str) -> None:
    path = os.path.join(output, SUMMARY_FILE)
    with open(path, "w") as handle:
        json.dump(summary, handle, indent=1, sort_keys=True)
    print()
    print(f"rehearsal {summary['status']} in {summary['seconds']:.0f} s (run {summary['run_id']}, {summary['images']} images)")
    print(f"  as KFP {summary['kfp_backend']}'s backend; pipeline root: {summary['pipeline_root']} ({summary['pipeline_root_source']})")
    for task in summary["tasks"]:
        memory = f"  peak {task['peak_memory_mb'] / 1000:.2f} GB" if task.get("peak_memory_mb") else ""
        when = f"{task['seconds']:6.0f} s" if task["state"] in ("ran", "failed") else " " * 8
        ended = f"  exit {task['exit_code']}: {task['reason']}" if task["state"] == "failed" else ""
        print(f"  {task['name']:<24} {task['state']:<8} {when}{memory}{ended}")
    if "failed_task" in summary:
        print(f"  failed: {summary['failed_task']['name']} (exit code {summary['failed_task']['exit_code']}, "
              f"{summary['failed_task']['reason']}); its log: {summary['failed_task']['log']}")
    if "baseline" in summary:
        print(f"  baseline: {summary['baseline']['note']}")
    if "blessed" in summary:
        accuracy = summary.get("eval_accuracy", {}).get("candidate")
        shown = f" (eval accuracy {accuracy:.3f})" if accuracy is not None else ""
        failures = "; ".join(summary.get("blessing_failures") or [])
        print(f"  blessed: {'yes' if summary['blessed'] else 'no: ' + (failures or 'below the gate')}{shown}")
    if "pushed" in summary:
        print(f"  {summary['push_note']}")
    if "report" in summary:
        print(f"  report: {summary['report']}")
    print(f"  summary: {path}")
