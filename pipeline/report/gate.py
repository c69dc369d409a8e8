"""The promotion gate as a table: every check with its threshold, the measured value and pass or fail.

Thresholds come from the EvalConfig the Evaluator ran with (eval_config.json
in its output), measured values from its metrics, and pass/fail from TFMA's
own validation result, so the table says exactly what the gate decided.
"""
from __future__ import annotations

import json
import os
import re
from typing import Dict, List, Optional, Set, Tuple

from components.promotion import noise_gate

# The slice naming the summary's metrics are keyed by ("overall", "class_name=horses").
_slice_name = noise_gate.slice_name


def _metric_name(metric_config) -> str:
    """TFMA's metric name: the config's own name, else its class name in snake case (BinaryAccuracy -> binary_accuracy)."""
    text = metric_config.config.strip()
    config = json.loads(text if text.startswith("{") else "{" + text + "}")  # TFMA allows the braces left out
    if config.get("name"):
        return config["name"]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", metric_config.class_name).lower()


def _thresholds(eval_config) -> List[Tuple[str, Optional[object], object]]:
    """(metric name, slicing spec or None for every slice, MetricThreshold) for each configured threshold."""
    found = []
    for spec in eval_config.metrics_specs:
        for metric in spec.metrics:
            name = _metric_name(metric)
            if metric.HasField("threshold"):
                found.append((name, None, metric.threshold))
            for per_slice in metric.per_slice_thresholds:
                for slicing_spec in per_slice.slicing_specs:
                    found.append((name, slicing_spec, per_slice.threshold))
    return found


def _slice_matches(slice_name: str, slicing_spec) -> bool:
    if slicing_spec is None:
        return True
    if not slicing_spec.feature_keys and not slicing_spec.feature_values:
        return slice_name == "overall"
    wanted = [f"{k}={v}" for k, v in slicing_spec.feature_values.items()] + [f"{k}=" for k in slicing_spec.feature_keys]
    return all(w in slice_name for w in wanted)


def _failed(evaluation_uri: str) -> Set[Tuple[str, str, bool]]:
    """(slice, metric, is change vs baseline) of every failed check, as TFMA recorded them."""
    import tensorflow_model_analysis as tfma

    validation = tfma.load_validation_result(evaluation_uri)
    failed = set()
    for per_slice in validation.metric_validations_per_slice:
        keys = [(k.column, getattr(k, k.WhichOneof("kind"))) for k in per_slice.slice_key.single_slice_keys]
        for failure in per_slice.failures:
            failed.add((_slice_name(keys), failure.metric_key.name, bool(failure.metric_key.is_diff)))
    return failed


def _bound_text(threshold, change: bool) -> str:
    """'≥ 0.9', '≥ -0.01' (change), '≤ 0.2 and ≥ 0.1': what the check requires."""
    from tensorflow_model_analysis.proto import config_pb2

    if change:
        higher = threshold.direction != config_pb2.MetricDirection.LOWER_IS_BETTER
        parts = [(f"{threshold.absolute.value:+g}", threshold.HasField("absolute")),
                 (f"{threshold.relative.value:+g} (relative)", threshold.HasField("relative"))]
        return " and ".join(f"{'≥' if higher else '≤'} {text}" for text, present in parts if present)
    parts = [(f"≥ {threshold.lower_bound.value:g}", threshold.HasField("lower_bound")),
             (f"≤ {threshold.upper_bound.value:g}", threshold.HasField("upper_bound"))]
    return " and ".join(text for text, present in parts if present)


def _eval_config(evaluation_uri: str):
    """The EvalConfig the Evaluator ran with (TFMA's eval_config.json: an EvalRun in JSON)."""
    from google.protobuf import json_format
    from tensorflow_model_analysis.proto import config_pb2

    with open(os.path.join(evaluation_uri, "eval_config.json")) as handle:
        return json_format.Parse(handle.read(), config_pb2.EvalRun(), ignore_unknown_fields=True).eval_config


def gate_checks(evaluation_uri: Optional[str], metrics: Dict[str, dict]) -> Optional[List[dict]]:
    """[{slice, metric, kind, threshold, value, interval, passed}] or None when the Evaluator did not run;
    TFMA's checks of the point estimates, then the comparison policy's of the paired intervals."""
    if not evaluation_uri or not os.path.exists(os.path.join(evaluation_uri, "eval_config.json")):
        return None
    eval_config = _eval_config(evaluation_uri)
    failed = _failed(evaluation_uri)
    record = noise_gate.read_record(evaluation_uri)
    noise = noise_gate.checks_by_slice(record)
    candidate, baseline = metrics.get("candidate", {}), metrics.get("baseline")
    rows = []
    for slice_name in candidate:
        for name, slicing_spec, threshold in _thresholds(eval_config):
            if not _slice_matches(slice_name, slicing_spec):
                continue
            value = candidate[slice_name].get(name)
            for change, field in ((False, "value_threshold"), (True, "change_threshold")):
                if not threshold.HasField(field):
                    continue
                part = getattr(threshold, field)
                row = {"slice": slice_name, "metric": name, "kind": "change vs serving model" if change else "value",
                       "threshold": _bound_text(part, change), "value": value, "applied": True}
                if change:
                    base = (baseline or {}).get(slice_name, {}).get(name)
                    row["applied"] = base is not None
                    row["value"] = round(value - base, 4) if value is not None and base is not None else None
                row["passed"] = row["applied"] and (slice_name, name, change) not in failed
                row["interval"] = _interval(noise.get(slice_name), change)
                rows.append(row)
    return rows + _noise_rows(record)


def _interval(check: Optional[dict], change: bool) -> str:
    """'0.93–1.0 (41 images)' for a value, '-0.05 to +0.02, within noise' for a change; '' when unknown."""
    if not check:
        return ""
    if not change:
        return f"{check['lower']:.3f}–{check['upper']:.3f} ({check['examples']} images)"
    delta = check.get("change") or {}
    if "lower" not in delta:
        return delta.get("verdict", "")
    return f"{delta['lower']:+.3f} to {delta['upper']:+.3f}, {delta['verdict']}"


def _noise_rows(record: Optional[dict]) -> List[dict]:
    """One row per slice compared with the serving model: what the comparison policy asks of the change."""
    if not record or record["policy"] == "point":
        return []
    rows = []
    for check in record["checks"]:
        delta = check.get("change")
        if not delta:
            continue
        asks_gain = record["policy"] == "better" and check["slice"] == "overall"
        passed = delta.get("verdict") == "better beyond noise" if asks_gain else delta.get("verdict") != "worse beyond noise"
        rows.append({"slice": check["slice"], "metric": "accuracy", "applied": True, "passed": passed,
                     "kind": f"change beyond noise (policy {record['policy']})",
                     "threshold": "better beyond noise" if asks_gain else "not worse beyond noise",
                     "value": delta["value"], "interval": _interval(check, True)})
    return rows


def golden_rows(golden) -> Optional[dict]:
    """The golden set's judgement (a GoldenRecord) as the report's rows: each model's golden accuracy with
    its interval, the paired change, the verdict and why; None without a golden set."""
    if golden is None:
        return None

    def row(name: str, figure: Optional[dict]) -> Optional[dict]:
        if not figure:
            return None
        return {"model": name, "value": figure["value"], "interval": f"{figure['lower']:.3f}–{figure['upper']:.3f}"}

    change = golden.change or {}
    return {
        "examples": golden.examples,
        "rows": [r for r in (row("candidate", golden.candidate), row("serving model", golden.serving)) if r],
        "change": {"value": change["value"], "interval": _interval({"change": change}, True)} if change else None,
        "verdict": golden.verdict,
        "refusals": golden.refusals,
    }
