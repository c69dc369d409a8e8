"""The gate's knowledge of its own noise: every gated figure with its 95% interval and the examples behind it.

The Evaluator runs TFMA with its jackknife confidence intervals (eval_config.py): the eval set is
dealt into 20 random buckets and every metric recomputed with each bucket left out, candidate and
serving model on the same examples, so the interval of their difference is a paired one. TFMA's
own validation judges the point estimates (the thresholds as set); this module adds what those
cannot see, by the comparison policy:

- "not_worse" (default): also refused when the candidate is worse than the serving model beyond
  noise (the whole interval of the difference below zero) on the whole eval set or any class,
  even by less than the tolerated drop.
- "better": promoted only when better beyond noise on the whole eval set (and worse beyond noise
  nowhere): a retrained model replaces the serving one only on a gain larger than the noise.
- "point": the point estimates alone (the gate before intervals).

It also warns, when there is a serving model to compare with, if one image moves a gated figure by
more than the tolerated drop: the gate's answer on such an eval set turns on single images. Where resampling sees no spread (every
example of a slice right, or wrong, alike), the interval of a proportion is Wilson's score
interval instead of a zero-width one.
"""
from __future__ import annotations

import json
import math
import os
from typing import Dict, Optional, Tuple

from components.constants import CLASS_NAME_KEY

POLICIES = ("not_worse", "better", "point")
RECORD = "gate_noise.json"  # written into the Evaluator's evaluation output
ACCURACY = "accuracy"
EXAMPLE_COUNT = "example_count"


def wilson_interval(correct: float, total: int, z: float = 1.96) -> Optional[Tuple[float, float]]:
    """95% interval of a proportion measured on `total` examples (Wilson score)."""
    if total <= 0:
        return None
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def slice_name(slice_key) -> str:
    """(('class_name', b'horses'),) -> 'class_name=horses'; the empty key is the whole eval set."""
    def text(value):
        return value.decode("utf-8") if isinstance(value, bytes) else value

    return "overall" if not slice_key else ", ".join(f"{k}={text(v)}" for k, v in slice_key)


def read_figures(evaluation_uri: str) -> Dict[str, Dict[str, Dict[str, dict]]]:
    """{model or "change": {slice: {metric: {"value", "lower", "upper"}}}} of every numeric metric TFMA
    wrote; "change" holds candidate minus serving model, and lower/upper are absent without an interval."""
    import tensorflow_model_analysis as tfma

    figures: Dict[str, Dict[str, Dict[str, dict]]] = {}
    for metrics in tfma.load_metrics(evaluation_uri):
        where = slice_name([(k.column, getattr(k, k.WhichOneof("kind"))) for k in metrics.slice_key.single_slice_keys])
        for entry in metrics.metric_keys_and_values:
            if entry.value.WhichOneof("type") != "double_value":
                continue
            model = "change" if entry.key.is_diff else (entry.key.model_name or "candidate")
            figure = {"value": entry.value.double_value.value}
            interval = entry.confidence_interval
            if interval.HasField("lower_bound") and interval.HasField("upper_bound"):
                figure["lower"] = interval.lower_bound.double_value.value
                figure["upper"] = interval.upper_bound.double_value.value
            figures.setdefault(model, {}).setdefault(where, {})[entry.key.name] = figure
    return figures


def proportion(figure: Optional[dict], examples: int) -> Optional[dict]:
    """An accuracy (or a class's recall) with its interval: TFMA's jackknife one, within [0, 1], or
    Wilson's where the jackknife had none or saw no spread."""
    if figure is None:
        return None
    value = figure["value"]
    lower, upper, method = figure.get("lower"), figure.get("upper"), "jackknife"
    if lower is None or upper - lower < 1e-9:
        lower, upper = wilson_interval(value * examples, examples) or (value, value)
        method = "wilson"
    return {"value": round(value, 4), "lower": round(max(0.0, lower), 4), "upper": round(min(1.0, upper), 4),
            "examples": examples, "method": method}


def change(figure: Optional[dict]) -> Optional[dict]:
    """Candidate minus serving model on the same examples, its paired interval and what it says."""
    if figure is None:
        return None
    row = {"value": round(figure["value"], 4)}
    if "lower" in figure:
        row.update(lower=round(figure["lower"], 4), upper=round(figure["upper"], 4))
        row["verdict"] = ("worse beyond noise" if figure["upper"] < 0 else
                          "better beyond noise" if figure["lower"] > 0 else
                          "no difference (the same answers)" if figure["upper"] - figure["lower"] < 1e-9 else "within noise")
    else:
        row["verdict"] = "no interval (too few examples to resample)"
    return row


def _judged_as(where: str, max_accuracy_drop: float, max_class_recall_drop: float) -> Tuple[str, float, str]:
    """(metric, tolerated drop, words) of a slice: the whole eval set, a class (its recall), or the newest
    span's images (eval_config.with_newest_span_judged: their accuracy, with the overall drop)."""
    key, _, value = where.partition("=")
    if key == CLASS_NAME_KEY:
        return "recall", max_class_recall_drop, f"recall of {value}"
    return "accuracy", max_accuracy_drop, "eval accuracy" if where == "overall" else f"accuracy on {where}"


def judge(figures: dict, max_accuracy_drop: float, max_class_recall_drop: float, policy: str) -> dict:
    """{"policy", "checks": [...], "refusals": [...], "warnings": [...]} for the candidate's accuracy on
    the whole eval set, each class's slice (its recall) and the newest span's slice when there is one,
    against the serving model when there is one."""
    candidate, changes = figures.get("candidate", {}), figures.get("change", {})
    checks, refusals, warnings = [], [], []
    for where in sorted(candidate, key=lambda name: (name != "overall", name)):
        metrics = candidate[where]
        examples = int(round(metrics.get(EXAMPLE_COUNT, {}).get("value", 0)))
        figure = proportion(metrics.get(ACCURACY), examples)
        if figure is None:
            continue
        metric, tolerated, what = _judged_as(where, max_accuracy_drop, max_class_recall_drop)
        check = {"slice": where, "metric": metric, **figure, "change": change(changes.get(where, {}).get(ACCURACY))}
        checks.append(check)
        if check["change"] is not None and examples and 1 / examples > tolerated:  # a drop is judged
            warnings.append(f"one image moves the {what} by {1 / examples:.3f} ({examples} eval images), more than "
                            f"the tolerated drop {tolerated:g}: the comparison turns on single images; add eval "
                            "images or tolerate a larger drop")
        verdict = (check["change"] or {}).get("verdict")
        if policy in ("not_worse", "better") and verdict == "worse beyond noise":
            delta = check["change"]
            refusals.append(f"[{where}] {check['metric']} is worse than the serving model's beyond noise: "
                            f"{delta['value']:+.4f} (95% interval {delta['lower']:+.4f} to {delta['upper']:+.4f})")
    overall = next((c for c in checks if c["slice"] == "overall"), None)
    if policy == "better" and overall and overall["change"] and overall["change"].get("verdict") != "better beyond noise":
        delta = overall["change"]
        refusals.append(f"[overall] accuracy is not better than the serving model's beyond noise "
                        f"({delta['value']:+.4f}, {delta['verdict']}); the comparison policy 'better' keeps "
                        "the serving model")
    return {"policy": policy, "checks": checks, "refusals": refusals, "warnings": warnings}


def write_record(evaluation_uri: str, record: dict) -> None:
    with open(os.path.join(evaluation_uri, RECORD), "w") as handle:
        json.dump(record, handle, indent=1)


def read_record(evaluation_uri: Optional[str]) -> Optional[dict]:
    """The judged figures of one evaluation; None for an evaluation from before intervals."""
    path = os.path.join(evaluation_uri or "", RECORD)
    if not evaluation_uri or not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def checks_by_slice(record: Optional[dict]) -> Dict[str, dict]:
    return {check["slice"]: check for check in (record or {}).get("checks", [])}
