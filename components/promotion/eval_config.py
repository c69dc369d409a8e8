"""The TFMA EvalConfig of the promotion gate: what "good enough and no worse" means."""
import tensorflow_model_analysis as tfma

from components import constants
from components.model.signatures import SERVING_DEFAULT


def build_eval_config(accuracy_threshold: float, max_accuracy_drop: float) -> tfma.EvalConfig:
    accuracy_gate = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": accuracy_threshold}),
        # Worse than the serving model by more than the tolerance: not blessed.
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={"value": -max_accuracy_drop}
        ),
    )
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name=SERVING_DEFAULT,
                label_key=constants.LABEL_KEY,
                prediction_key="probability",
                # Call the signature directly; reloading through Keras was 7-9x slower with 3x the memory.
                model_type="tf_generic",
            )
        ],
        slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=[constants.CLASS_NAME_KEY])],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(class_name="BinaryAccuracy", threshold=accuracy_gate),
                    tfma.MetricConfig(class_name="AUC"),
                    tfma.MetricConfig(class_name="Precision"),
                    tfma.MetricConfig(class_name="Recall"),
                    tfma.MetricConfig(class_name="ExampleCount"),
                ]
            )
        ],
    )
