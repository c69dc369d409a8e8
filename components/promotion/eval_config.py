"""The TFMA EvalConfig of the promotion gate: what "good enough and no worse" means.

One code path for any number of classes: the model's `probabilities` output
against the integer label. Accuracy is gated on the whole eval set, and
because the eval set is also sliced by class, the accuracy of each class's
slice (that class's recall) is gated too: a candidate that gains on average
by giving up one class is refused. The confusion matrix is computed for the
run summary (per-class precision and recall are read from it), and the
candidate's mistakes for the report's gallery (components/promotion/eval_mistakes.py).
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


def _bounds(lowest: float, max_drop: float) -> tfma.MetricThreshold:
    return tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": lowest}),
        # Worse than the baseline model by more than the tolerance: not blessed.
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={"value": -max_drop}
        ),
    )


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

    eval_config = json_format.Parse(eval_config_json, tfma.EvalConfig())
    found = {}
    for spec in eval_config.metrics_specs:
        for metric in spec.metrics:
            for per_slice in metric.per_slice_thresholds:
                kind = "class" if per_slice.slicing_specs[0].feature_keys else "overall"
                found[kind] = (per_slice.threshold.value_threshold.lower_bound.value,
                               -per_slice.threshold.change_threshold.absolute.value)
    return GateThresholds(found["overall"][0], found["overall"][1], found["class"][0], found["class"][1])
