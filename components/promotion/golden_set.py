"""The golden set's own pass of the Evaluator: candidate and serving model on the split `golden` alone.

TFX's Evaluator flattens every example split it is given into one set, so the golden images
(setting golden_dir, ingested as the split `golden`) get a TFMA pass of their own, written under
`<evaluation>/golden`: the overall slice only, with the gate's overall thresholds (the absolute bar
and the tolerated drop against the serving model), the jackknife intervals and the paired change.
noise_gate.py judges it by the same comparison policy as the eval set. The golden verdict is
`refused` when TFMA's validation of that pass failed or the policy refuses; the Evaluator then
takes the blessing back. The figures go into gate_noise.json as its `golden` entry.
"""
from __future__ import annotations

import os
from typing import List, Optional

import tensorflow_model_analysis as tfma
from tfx.components.evaluator import executor as tfx_evaluator

from components import constants
from components.promotion import noise_gate

SUBFOLDER = "golden"  # inside the Evaluator's evaluation artifact
WHERE = "golden set"


def has_golden_split(examples) -> bool:
    """Whether the ingested examples hold the split `golden` (their split_names)."""
    from tfx.types import artifact_utils

    return bool(examples) and constants.GOLDEN_SPLIT in artifact_utils.decode_split_names(examples[0].split_names)


def golden_eval_config(eval_config: tfma.EvalConfig) -> tfma.EvalConfig:
    """The gate's EvalConfig cut to the overall slice: its accuracy thresholds on the overall slice and the
    example count (no class slices, no confusion matrix, no gallery: the golden set answers one question)."""
    golden = tfma.EvalConfig()
    golden.CopyFrom(eval_config)
    overall = tfma.SlicingSpec()
    del golden.slicing_specs[:]
    golden.slicing_specs.append(overall)
    del golden.metrics_specs[:]
    for spec in eval_config.metrics_specs:
        kept = tfma.MetricsSpec()
        for metric in spec.metrics:
            if metric.class_name not in ("SparseCategoricalAccuracy", "ExampleCount"):
                continue
            copy = kept.metrics.add()
            copy.CopyFrom(metric)
            del copy.per_slice_thresholds[:]
            copy.per_slice_thresholds.extend(t for t in metric.per_slice_thresholds if list(t.slicing_specs) == [overall])
        if kept.metrics:
            golden.metrics_specs.append(kept)
    return golden


def tfma_failures(evaluation_uri: str) -> List[str]:
    """TFMA's failed checks of a pass, in words."""
    validation = tfma.load_validation_result(evaluation_uri)
    return [f"{failure.metric_key.name} ({failure.metric_key.model_name or 'candidate'}"
            f"{', change vs serving model' if failure.metric_key.is_diff else ''}) = "
            f"{failure.metric_value.double_value.value:.4f}: {failure.message.strip() or 'threshold not met'}"
            for per_slice in validation.metric_validations_per_slice for failure in per_slice.failures]


def judge_golden(figures: dict, tfma_failed: List[str], max_accuracy_drop: float, policy: str) -> Optional[dict]:
    """The golden entry of gate_noise.json: {"examples", "candidate", "serving", "change", "verdict", "refusals",
    "warnings"}; None when the pass measured nothing."""
    judged = noise_gate.judge(figures, max_accuracy_drop, max_accuracy_drop, policy)
    overall = next((check for check in judged["checks"] if check["slice"] == "overall"), None)
    if overall is None:
        return None
    baseline = (figures.get("baseline") or {}).get("overall") or {}
    serving = noise_gate.proportion(baseline.get(noise_gate.ACCURACY), overall["examples"]) if baseline else None
    refusals = [f"[{WHERE}] {text}" for text in tfma_failed]
    refusals += [f"[{WHERE}] " + text.replace("[overall] accuracy", "accuracy", 1) for text in judged["refusals"]]
    return {
        "examples": overall["examples"],
        "candidate": {key: overall[key] for key in ("value", "lower", "upper", "method")},
        "serving": {key: serving[key] for key in ("value", "lower", "upper", "method")} if serving else None,
        "change": overall["change"],
        "verdict": "refused" if refusals else "passed",
        "refusals": refusals,
        "warnings": [f"{WHERE}: " + text.replace("the eval accuracy", "the golden accuracy").replace("eval images", "golden images")
                     for text in judged["warnings"]],
    }


def evaluate_golden(executor, input_dict: dict, exec_properties: dict, evaluation_uri: str, max_accuracy_drop: float,
                    policy: str) -> Optional[dict]:
    """Runs TFX's Evaluator (`executor`'s Do, TFX's own) on the golden split alone into <evaluation>/golden and
    judges it (judge_golden). The pass's blessing is a scratch artifact under that folder: the component's
    own blessing stays the gate's."""
    from google.protobuf import json_format
    from tfx.types import standard_artifacts, standard_component_specs
    from tfx.utils import json_utils

    uri = os.path.join(evaluation_uri, SUBFOLDER)
    evaluation, blessing = standard_artifacts.ModelEvaluation(), standard_artifacts.ModelBlessing()
    evaluation.uri, blessing.uri = uri, os.path.join(uri, "blessing")
    os.makedirs(blessing.uri, exist_ok=True)
    config = json_format.Parse(exec_properties[standard_component_specs.EVAL_CONFIG_KEY], tfma.EvalConfig())
    properties = dict(exec_properties, **{
        standard_component_specs.EVAL_CONFIG_KEY: json_format.MessageToJson(golden_eval_config(config)),
        standard_component_specs.EXAMPLE_SPLITS_KEY: json_utils.dumps([constants.GOLDEN_SPLIT]),
    })
    print("Evaluator: judging the golden set on its own", flush=True)
    tfx_evaluator.Executor.Do(executor, input_dict, {standard_component_specs.EVALUATION_KEY: [evaluation],
                                                     standard_component_specs.BLESSING_KEY: [blessing]}, properties)
    return judge_golden(noise_gate.read_figures(uri), tfma_failures(uri), max_accuracy_drop, policy)
