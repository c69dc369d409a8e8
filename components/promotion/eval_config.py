"""The TFMA EvalConfig of the promotion gate: what "good enough and no worse" means.

One code path for any number of classes: the model's `probabilities` output
against the integer label. Accuracy is gated on the whole eval set, and
because the eval set is also sliced by class, the accuracy of each class's
slice (that class's recall) is gated too: a candidate that gains on average
by giving up one class is refused. The confusion matrix is computed for the
run summary (per-class precision and recall are read from it), and the
candidate's mistakes for the report's gallery (components/promotion/eval_mistakes.py). When the data
arrives in spans, the Evaluator adds the newest span's slice at run time (with_newest_span_judged).
Every metric comes with TFMA's jackknife 95% interval, the change against the
serving model with a paired one; noise_gate.py judges those.
"""
import tensorflow_model_analysis as tfma

from components import constants
from components.model.signatures import PROBABILITIES, SERVING_DEFAULT
from components.promotion.eval_mistakes import EvalMistakes
from components.promotion.thresholds import GateThresholds

ACCURACY = "accuracy"
CONFUSION_MATRIX = "MultiClassConfusionMatrixPlot"


def _no_worse_than(max_drop: float) -> tfma.GenericChangeThreshold:
    # Worse than the baseline model by more than the tolerance: not blessed.
    return tfma.GenericChangeThreshold(direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={"value": -max_drop})


def _bounds(lowest: float, max_drop: float) -> tfma.MetricThreshold:
    return tfma.MetricThreshold(value_threshold=tfma.GenericValueThreshold(lower_bound={"value": lowest}),
                                change_threshold=_no_worse_than(max_drop))


def newest_span_slice(newest_span: str) -> tfma.SlicingSpec:
    return tfma.SlicingSpec(feature_values={constants.SPAN_KEY: newest_span})


def with_newest_span_judged(eval_config: tfma.EvalConfig, newest_span: str) -> tfma.EvalConfig:
    """The gate's EvalConfig plus the newest span's eval images as a slice of their own, on which the
    candidate may be no worse than the serving model by more than the overall tolerated drop.

    Data arrives in spans, and the newest is what the model will see next: a candidate that gains on
    the older spans while losing on the newest is refused, paired with the serving model on the same
    images and judged by the same comparison policy (noise_gate.py). It holds no absolute bar: the
    newest span's eval images are few, and the overall bar already holds the candidate's level.
    """
    judged = tfma.EvalConfig()
    judged.CopyFrom(eval_config)
    span = newest_span_slice(newest_span)
    judged.slicing_specs.append(span)
    overall_drop = gate_thresholds_of_config(eval_config).max_accuracy_drop
    for spec in judged.metrics_specs:
        for metric in spec.metrics:
            if metric.per_slice_thresholds:
                metric.per_slice_thresholds.append(tfma.PerSliceMetricThreshold(
                    slicing_specs=[span], threshold=tfma.MetricThreshold(change_threshold=_no_worse_than(overall_drop))))
    return judged


def build_eval_config(thresholds: GateThresholds) -> tfma.EvalConfig:
    overall = tfma.SlicingSpec()
    per_class = tfma.SlicingSpec(feature_keys=[constants.CLASS_NAME_KEY])
    accuracy = tfma.MetricConfig(
        class_name="SparseCategoricalAccuracy",
        config=f'"name": "{ACCURACY}"',
        per_slice_thresholds=[
            tfma.PerSliceMetricThreshold(
                slicing_specs=[overall], threshold=_bounds(thresholds.accuracy_threshold, thresholds.max_accuracy_drop)
            ),
            tfma.PerSliceMetricThreshold(
                slicing_specs=[per_class],
                threshold=_bounds(thresholds.class_recall_threshold, thresholds.max_class_recall_drop),
            ),
        ],
    )
    return tfma.EvalConfig(
        # Jackknife: 20 buckets of the eval set, each left out once; every model is scored on the same
        # buckets, so the interval of a change is paired. (TFMA's Poisson bootstrap draws 20 resamples.)
        options=tfma.Options(
            compute_confidence_intervals={"value": True},
            confidence_intervals=tfma.ConfidenceIntervalOptions(method=tfma.ConfidenceIntervalOptions.JACKKNIFE),
        ),
        model_specs=[
            tfma.ModelSpec(
                signature_name=SERVING_DEFAULT,
                label_key=constants.LABEL_KEY,
                prediction_key=PROBABILITIES,
                # Call the signature directly; reloading through Keras was 7-9x slower with 3x the memory.
                model_type="tf_generic",
            )
        ],
        slicing_specs=[overall, per_class],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    accuracy,
                    tfma.MetricConfig(class_name="ExampleCount"),
                    tfma.MetricConfig(class_name=CONFUSION_MATRIX),
                    # What the report's gallery shows, recorded here so that nothing runs the model again.
                    tfma.MetricConfig(class_name=EvalMistakes.__name__, module=EvalMistakes.__module__),
                ]
            )
        ],
    )


def gate_thresholds_of(eval_config_json: str) -> GateThresholds:
    """The GateThresholds an EvalConfig (as the Evaluator's exec property holds it, JSON) was built from."""
    from google.protobuf import json_format

    return gate_thresholds_of_config(json_format.Parse(eval_config_json, tfma.EvalConfig()))


def gate_thresholds_of_config(eval_config: tfma.EvalConfig) -> GateThresholds:
    found = {}
    for spec in eval_config.metrics_specs:
        for metric in spec.metrics:
            for per_slice in metric.per_slice_thresholds:
                slicing = per_slice.slicing_specs[0]
                if slicing.feature_values:  # the newest span's slice: the overall drop again, no bar of its own
                    continue
                kind = "class" if slicing.feature_keys else "overall"
                found[kind] = (per_slice.threshold.value_threshold.lower_bound.value,
                               -per_slice.threshold.change_threshold.absolute.value)
    return GateThresholds(found["overall"][0], found["overall"][1], found["class"][0], found["class"][1])
