"""Reads the Evaluator's output back: metrics per model and slice, and why it blessed or not."""
from __future__ import annotations

import json
import os
from typing import Dict, List, Optional

import tensorflow_model_analysis as tfma

from components.promotion import noise_gate
from components.promotion.eval_mistakes import EVAL_MISTAKES


_slice_name = noise_gate.slice_name


def _plain(metrics: dict) -> Dict[str, float]:
    """TFMA's {output: {sub_key: {metric: {"doubleValue": x}}}} for one output -> {metric: x} (NaN -> None);
    a metric with an interval comes as {"boundedValue": {"value": x, "lowerBound", "upperBound"}}."""
    values = {}
    for name, value in metrics.get("", {}).get("", {}).items():
        number = value["doubleValue"] if "doubleValue" in value else value.get("boundedValue", {}).get("value")
        if number is not None:
            values[name] = None if number == "NaN" else round(float(number), 4)
    return values


def _model_specs(evaluation_uri: str) -> List[dict]:
    with open(os.path.join(evaluation_uri, "eval_config.json")) as handle:
        config = json.load(handle)
    return config.get("evalConfig", config).get("modelSpecs", [])


def _model_names(evaluation_uri: str) -> List[str]:
    return [spec.get("name", "") for spec in _model_specs(evaluation_uri)] or [""]


def read_mistakes(evaluation_uri: str) -> Optional[dict]:
    """The candidate's eval mistakes on the whole eval split, as the Evaluator recorded them
    ({"evaluated", "wrong", "mistakes": [{file, label, probabilities}]}); None if this evaluation has none."""
    candidate = next((s.get("name", "") for s in _model_specs(evaluation_uri) if not s.get("isBaseline")), "")
    for metrics in tfma.load_metrics(evaluation_uri):
        if metrics.slice_key.single_slice_keys:
            continue  # a class's slice; the overall one holds every eval example
        for entry in metrics.metric_keys_and_values:
            if entry.key.name == EVAL_MISTAKES and entry.key.model_name == candidate:
                return json.loads(entry.value.bytes_value)
    return None


def _confusion_counts(plots: dict) -> Optional[List[List[int]]]:
    """TFMA's MultiClassConfusionMatrixPlot at threshold 0 (argmax) -> counts[true id][predicted id]."""
    for by_sub_key in plots.values():
        for plot in by_sub_key.values():
            matrices = plot.get("multiClassConfusionMatrixAtThresholds", {}).get("matrices", [])
            if not matrices:
                continue
            entries = matrices[0].get("entries", [])
            size = 1 + max([max(int(e.get("actualClassId", 0)), int(e.get("predictedClassId", 0))) for e in entries] + [0])
            counts = [[0] * size for _ in range(size)]
            for entry in entries:
                predicted = int(entry.get("predictedClassId", 0))
                if predicted >= 0:  # -1: no class above the threshold (never at threshold 0)
                    counts[int(entry.get("actualClassId", 0))][predicted] += int(round(entry.get("numWeightedExamples", 0)))
            return counts
    return None


def per_class_scores(counts: List[List[int]], class_names: List[str]) -> Dict[str, dict]:
    """{class: {precision, recall, examples}} from a confusion matrix (rows true, columns predicted)."""
    scores = {}
    for index, name in enumerate(class_names):
        examples = sum(counts[index]) if index < len(counts) else 0
        predicted = sum(row[index] for row in counts if index < len(row))
        hits = counts[index][index] if index < len(counts) else 0
        scores[name] = {
            "precision": round(hits / predicted, 4) if predicted else None,
            "recall": round(hits / examples, 4) if examples else None,
            "examples": examples,
        }
    return scores


def read_evaluation(evaluation_uri: str) -> dict:
    """{"models": {name: {slice: {metric: value}}}, "confusion": {name: counts}, "validation_ok", "failures",
    "noise": the gate's figures with their intervals (noise_gate.judge), None before intervals}."""
    models, confusion = {}, {}
    for name in _model_names(evaluation_uri):
        result = tfma.load_eval_result(evaluation_uri, model_name=name or None)
        models[name or "candidate"] = {
            _slice_name(slice_key): _plain(metrics) for slice_key, metrics in result.slicing_metrics
        }
        overall_plots = [plots for slice_key, plots in (result.plots or []) if not slice_key]
        counts = _confusion_counts(overall_plots[0]) if overall_plots else None
        if counts is not None:
            confusion[name or "candidate"] = counts
    validation = tfma.load_validation_result(evaluation_uri)
    failures = []
    for per_slice in validation.metric_validations_per_slice:
        where = _slice_name(
            [(key.column, getattr(key, key.WhichOneof("kind"))) for key in per_slice.slice_key.single_slice_keys]
        )
        for failure in per_slice.failures:
            failures.append(
                f"[{where}] {failure.metric_key.name} ({failure.metric_key.model_name or 'candidate'}"
                f"{', change vs baseline' if failure.metric_key.is_diff else ''}) = "
                f"{failure.metric_value.double_value.value:.4f}: {failure.message.strip() or 'threshold not met'}"
            )
    noise = noise_gate.read_record(evaluation_uri)
    failures += (noise or {}).get("refusals", [])
    return {"models": models, "confusion": confusion, "failures": failures, "noise": noise,
            "validation_ok": bool(validation.validation_ok) and not failures}
