"""Reads the Evaluator's output back: metrics per model and slice, and why it blessed or not."""
from __future__ import annotations

import json
import os
from typing import Dict, List

import tensorflow_model_analysis as tfma


def _slice_name(slice_key) -> str:
    """(('class_name', b'horses'),) -> 'class_name=horses'; the empty key is the whole eval set."""
    def text(value):
        return value.decode("utf-8") if isinstance(value, bytes) else value

    return "overall" if not slice_key else ", ".join(f"{k}={text(v)}" for k, v in slice_key)


def _plain(metrics: dict) -> Dict[str, float]:
    """TFMA's {output: {sub_key: {metric: {"doubleValue": x}}}} for one output -> {metric: x} (NaN -> None)."""
    values = {}
    for name, value in metrics.get("", {}).get("", {}).items():
        if "doubleValue" in value:
            number = value["doubleValue"]
            values[name] = None if number == "NaN" else round(float(number), 4)
    return values


def _model_names(evaluation_uri: str) -> List[str]:
    with open(os.path.join(evaluation_uri, "eval_config.json")) as handle:
        config = json.load(handle)
    return [spec.get("name", "") for spec in config.get("evalConfig", config).get("modelSpecs", [])] or [""]


def read_evaluation(evaluation_uri: str) -> dict:
    """{"models": {name: {slice: {metric: value}}}, "validation_ok": bool, "failures": [...]}."""
    models = {}
    for name in _model_names(evaluation_uri):
        result = tfma.load_eval_result(evaluation_uri, model_name=name or None)
        models[name or "candidate"] = {
            _slice_name(slice_key): _plain(metrics) for slice_key, metrics in result.slicing_metrics
        }
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
    return {"models": models, "validation_ok": bool(validation.validation_ok), "failures": failures}
