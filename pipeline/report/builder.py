"""Gathers everything the report shows from the run record and the run's artifacts.

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
from components.serving import versions as serving_versions
from pipeline.report.eval_examples import image_size_counts
from pipeline.report.gallery import misclassified
from pipeline.report.gate import gate_checks, golden_rows
from pipeline.report.model_card import build_model_card
from pipeline.report.training_history import read_training_history
from pipeline.run_record.record import DataRecord, ModelRecord, RunRecord

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



def _run_section(record: RunRecord) -> dict:
    return {
        "status": record.status,
        "error": record.error,
        "stopped_at": record.stopped_at,
        "components": [dataclasses.asdict(row) for row in record.components],
        "not_reached": record.not_reached,
        "seconds": record.seconds,
        "note": record.note,
    }


def _data_section(data: DataRecord, examples_uri: Optional[str]) -> dict:
    examples = {split: data.examples[split] for split in sorted(data.examples, key=lambda s: (s != constants.TRAIN_SPLIT, s))}
    classes = data.classes or sorted({name for counts in examples.values() for name in counts})
    sizes = None
    if examples_uri and os.path.isdir(examples_uri):
        sizes = image_size_counts(examples_uri)
    return {
        "classes": classes,
        "splits": list(examples),
        "examples": examples,
        "groups_per_split": data.groups_per_split,
        "groups_in_both_splits": data.groups_in_both_splits,
        "image_sizes": sizes,
        "rejected": data.rejected_files,
        "converted": data.converted_files,
        "warnings": data.warnings,
        "anomalies": data.anomalies,
    }


def _per_class(model: ModelRecord, classes: List[str]) -> Optional[Dict[str, dict]]:
    """{class: {metric: value}}: the record's per_class where present, else the candidate's class slices."""
    if model.per_class:
        return model.per_class
    slices = model.metrics.get("candidate", {})
    found = {
        key[len(CLASS_SLICE):]: {name: v for name, v in values.items() if not name.endswith(DIFF)}
        for key, values in slices.items() if key.startswith(CLASS_SLICE)
    }
    return {name: found[name] for name in classes if name in found} or None


def _gallery(artifacts: RunArtifacts, classes: List[str]) -> Optional[dict]:
    if not artifacts.evaluation or not artifacts.examples or len(classes) < 2:
        return None
    return misclassified(artifacts.evaluation, artifacts.examples, classes)


def _evaluation_section(record: RunRecord, artifacts: RunArtifacts, classes: List[str]) -> dict:
    metrics = record.model.metrics
    confusion = record.model.confusion_matrix
    return {
        "metrics": metrics,
        "metric_names": sorted({n for model in metrics.values() for n in model.get("overall", {}) if not n.endswith(DIFF)}),
        "per_class": _per_class(record.model, classes),
        "confusion_matrix": dict(dataclasses.asdict(confusion), source="the Evaluator") if confusion else None,
        "gallery": _gallery(artifacts, classes),
        "baseline": record.gate.baseline,
    }


def _gate_section(record: RunRecord, artifacts: RunArtifacts) -> dict:
    gate = record.gate
    return {
        "checks": gate_checks(artifacts.evaluation, record.model.metrics),
        "noise_warnings": gate.noise_warnings,
        "blessed": gate.blessed,
        "why": gate.why,
        "failures": gate.failures,
        "baseline": gate.baseline,
        "pushed": gate.pushed,
        "push_note": gate.push_note,
        "serving_dir": record.serving_dir,
        "golden": golden_rows(gate.golden),
    }


def _over_time_section(record: RunRecord) -> dict:
    """Data over time: images per span and class, the drift gate's checks against their thresholds, and
    each kept version's spans and eval accuracy (its push record), oldest first."""
    spans = dataclasses.asdict(record.spans) if record.spans else None
    classes = sorted({name for counts in (spans or {}).get("images", {}).values() for name in counts})
    try:
        folders = serving_versions.scan(record.serving_dir) if record.serving_dir and "://" not in record.serving_dir else []
    except serving_versions.ServingDirError:
        folders = []
    kept = [{"version": folder.version, "pushed_at": folder.record.get("pushed_at"), "pushed_by": folder.record.get("pushed_by"),
             "spans": folder.record.get(serving_versions.SPANS), "eval_accuracy": folder.record.get("eval_accuracy")}
            for folder in folders if folder.managed]
    return {"spans": spans, "classes": classes, "drift": dataclasses.asdict(record.drift) if record.drift else None,
            "versions": kept}


def build_report(record: RunRecord, artifacts: RunArtifacts, now: Optional[datetime.datetime] = None) -> dict:
    """Every section of the report as plain data (rendered by pipeline.report.render)."""
    ingestion = read_report(artifacts.examples) if artifacts.examples and os.path.isdir(artifacts.examples) else {}
    data = _data_section(record.data, artifacts.examples)
    evaluation = _evaluation_section(record, artifacts, data["classes"])
    return {
        "generated": (now or datetime.datetime.now()).strftime("%Y-%m-%d %H:%M"),
        "pipeline_root": record.pipeline_root,
        "accuracy": record.model.accuracy,
        "run": _run_section(record),
        "data": data,
        "training": read_training_history(artifacts.model_run),
        "evaluation": evaluation,
        "gate": _gate_section(record, artifacts),
        "over_time": _over_time_section(record),
        "model_card": build_model_card(record, artifacts.trainer_settings, ingestion),
    }
