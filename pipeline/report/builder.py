"""Gathers everything the report shows from the run summary and the run's artifacts.

The result is a plain dict of sections; a section whose inputs are missing
(the run stopped before it, or an older run lacks the file) says so instead
of failing the whole report.
"""
from __future__ import annotations

import dataclasses
import datetime
import os
from typing import Dict, List, Optional

from components import constants
from components.ingestion.report import read_report
from pipeline.report.eval_examples import image_size_counts
from pipeline.report.gallery import misclassified
from pipeline.report.gate import gate_checks
from pipeline.report.model_card import build_model_card
from pipeline.report.training_history import read_training_history

CLASS_SLICE = f"{constants.CLASS_NAME_KEY}="  # the Evaluator's per-class slices: class_name=horses
DIFF = "_diff"  # TFMA's candidate-minus-baseline metrics: shown as the gate's change checks, not as metrics


@dataclasses.dataclass(frozen=True)
class RunArtifacts:
    """Where the report reads the run's own files (artifact URIs; None where that step did not produce one)."""

    examples: Optional[str] = None  # ExampleGen's examples
    model: Optional[str] = None  # Trainer's model (Format-Serving inside)
    model_run: Optional[str] = None  # Trainer's model_run (training history, TensorBoard logs)
    evaluation: Optional[str] = None  # Evaluator's evaluation
    trainer_settings: Optional[dict] = None  # the Trainer's custom_config


def accuracy_of(metrics: dict) -> Optional[float]:
    return metrics.get("accuracy", metrics.get("binary_accuracy"))


def _stopped_at(summary: dict) -> Optional[str]:
    if summary.get("status") != "failed":
        return None
    components = summary.get("components", [])
    failed = [row["component"] for row in components if row["state"] == "failed"]
    if failed:
        return failed[0]
    return f"after {components[-1]['component']}" if components else "before the first component"


def _run_section(summary: dict) -> dict:
    ran = {row["component"] for row in summary.get("components", [])}
    return {
        "status": summary.get("status", "unknown"),
        "error": summary.get("error"),
        "stopped_at": _stopped_at(summary),
        "components": summary.get("components", []),
        "not_reached": [name for name in summary.get("planned_components", []) if name not in ran],
        "seconds": summary.get("seconds"),
        "note": summary.get("run_note"),
    }


def _data_section(summary: dict, examples_uri: Optional[str]) -> dict:
    examples = summary.get("examples") or {}
    examples = {split: examples[split] for split in sorted(examples, key=lambda s: (s != constants.TRAIN_SPLIT, s))}
    classes = summary.get("classes") or sorted({name for counts in examples.values() for name in counts})
    sizes = None
    if examples_uri and os.path.isdir(examples_uri):
        sizes = image_size_counts(examples_uri)
    return {
        "classes": classes,
        "splits": list(examples),
        "examples": examples,
        "groups_per_split": summary.get("groups_per_split"),
        "groups_in_both_splits": summary.get("groups_in_both_splits"),
        "image_sizes": sizes,
        "rejected": summary.get("rejected_files"),
        "converted": summary.get("converted_files"),
        "warnings": summary.get("warnings") or [],
        "anomalies": summary.get("anomalies"),
    }


def _per_class(summary: dict, classes: List[str]) -> Optional[Dict[str, dict]]:
    """{class: {metric: value}}: the summary's per_class where present, else the candidate's class slices."""
    if summary.get("per_class"):
        return summary["per_class"]
    slices = (summary.get("metrics") or {}).get("candidate", {})
    found = {
        key[len(CLASS_SLICE):]: {name: v for name, v in values.items() if not name.endswith(DIFF)}
        for key, values in slices.items() if key.startswith(CLASS_SLICE)
    }
    return {name: found[name] for name in classes if name in found} or None


def _gallery(artifacts: RunArtifacts, classes: List[str]) -> Optional[dict]:
    if not artifacts.evaluation or not artifacts.examples or len(classes) < 2:
        return None
    return misclassified(artifacts.evaluation, artifacts.examples, classes)


def _evaluation_section(summary: dict, artifacts: RunArtifacts, classes: List[str]) -> dict:
    metrics = summary.get("metrics") or {}
    gallery = _gallery(artifacts, classes)
    confusion = summary.get("confusion_matrix")
    if confusion:
        confusion = dict(confusion, source="the Evaluator")
    return {
        "metrics": metrics,
        "metric_names": sorted({n for model in metrics.values() for n in model.get("overall", {}) if not n.endswith(DIFF)}),
        "per_class": _per_class(summary, classes),
        "confusion_matrix": confusion,
        "gallery": gallery,
        "baseline": summary.get("baseline"),
    }


def _gate_section(summary: dict, artifacts: RunArtifacts) -> dict:
    return {
        "checks": gate_checks(artifacts.evaluation, summary.get("metrics") or {}),
        "noise_warnings": (summary.get("gate_noise") or {}).get("warnings", []),
        "blessed": summary.get("blessed"),
        "why": summary.get("blessed_why"),
        "failures": summary.get("blessing_failures") or [],
        "baseline": summary.get("baseline"),
        "pushed": summary.get("pushed"),
        "push_note": summary.get("push_note"),
        "serving_dir": summary.get("serving_dir"),
    }


def build_report(summary: dict, artifacts: RunArtifacts, now: Optional[datetime.datetime] = None) -> dict:
    """Every section of the report as plain data (rendered by pipeline.report.render)."""
    ingestion = read_report(artifacts.examples) if artifacts.examples and os.path.isdir(artifacts.examples) else {}
    data = _data_section(summary, artifacts.examples)
    evaluation = _evaluation_section(summary, artifacts, data["classes"])
    overall = (evaluation["metrics"].get("candidate") or {}).get("overall", {})
    return {
        "generated": (now or datetime.datetime.now()).strftime("%Y-%m-%d %H:%M"),
        "pipeline_root": summary.get("pipeline_root"),
        "accuracy": accuracy_of(overall),
        "run": _run_section(summary),
        "data": data,
        "training": read_training_history(artifacts.model_run),
        "evaluation": evaluation,
        "gate": _gate_section(summary, artifacts),
        "model_card": build_model_card(summary, artifacts.trainer_settings, ingestion, accuracy_of(overall)),
    }
