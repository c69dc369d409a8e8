"""Evaluator executor: TFX's own, told when the baseline artifact holds no model, then the noise gate.

ServingBaseline always emits an artifact; when it is marked has_baseline=0
it is dropped here, and TFX's Evaluator then ignores the change thresholds
(its rubber-stamp rule) and judges the candidate on the absolute ones.
When the examples hold two spans or more, the newest span's eval images are
a gated slice of their own (eval_config.with_newest_span_judged).
After TFX has blessed or not on TFMA's point estimates, noise_gate.py judges
the intervals by the comparison policy ServingBaseline carries, records every
figure with its interval (gate_noise.json in the evaluation) and takes the
blessing back when the policy refuses. TFMA's jackknife runs as jackknife.py computes it (the same
figures, in fewer Beam stages), and TFMA calls the serving signature by its input's name
(signature_calls.py). When the examples hold a golden split
(setting golden_dir), golden_set.py judges it in a pass of its own, and a
refusal there takes the blessing back too.
"""
import os

import tensorflow_model_analysis as tfma
from absl import logging
from google.protobuf import json_format
from tfx.components.evaluator.component import Evaluator
from tfx.components.evaluator import constants as evaluator_constants
from tfx.components.evaluator import executor as tfx_evaluator
from tfx.dsl.components.base import executor_spec
from tfx.dsl.io import fileio
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils

from components import constants
from components.promotion import golden_set, jackknife, noise_gate, signature_calls
from components.promotion.baseline import BASELINE_NOTE, COMPARISON_POLICY, HAS_BASELINE
from components.promotion.eval_config import gate_thresholds_of, with_newest_span_judged
from components.promotion.settings import PromotionSettings


def newest_span_judged(exec_properties: dict, examples) -> dict:
    """The exec properties with the newest span's slice in the EvalConfig when the examples hold a window
    of two spans or more (their span_window property, oldest first; one span is the whole eval set)."""
    window = examples[0].get_json_value_custom_property(constants.SPAN_WINDOW_PROPERTY) if examples else None
    if not window or len(window) < 2:
        return exec_properties
    if not eval_examples_of_span(examples, str(window[-1])):
        # A slice with no examples is a missing slice to TFMA, which then blesses nothing and names no failure.
        print(f"Evaluator: the newest span, {window[-1]}, has no eval images; judged on the whole eval set alone", flush=True)
        return exec_properties
    config = json_format.Parse(exec_properties[standard_component_specs.EVAL_CONFIG_KEY], tfma.EvalConfig())
    print(f"Evaluator: the newest span, {window[-1]}, is judged on its own eval images too", flush=True)
    return dict(exec_properties, **{standard_component_specs.EVAL_CONFIG_KEY: json_format.MessageToJson(
        with_newest_span_judged(config, str(window[-1])))})


def eval_examples_of_span(examples, span: str) -> int:
    """How many examples of the eval split carry this span (the ingested examples' gzipped TFRecords)."""
    import tensorflow as tf

    files = tf.io.gfile.glob(os.path.join(artifact_utils.get_split_uri(examples, constants.EVAL_SPLIT), "*"))
    spec = {constants.SPAN_KEY: tf.io.VarLenFeature(tf.string)}
    count = 0
    for batch in tf.data.TFRecordDataset(files, compression_type="GZIP").batch(512):
        spans = tf.sparse.to_dense(tf.io.parse_example(batch, spec)[constants.SPAN_KEY], default_value=b"")
        count += int(tf.reduce_sum(tf.cast(tf.equal(spans[:, :1], span.encode()), tf.int32)))
    return count


class GatedEvaluatorExecutor(tfx_evaluator.Executor):
    def Do(self, input_dict, output_dict, exec_properties):
        jackknife.install()  # TFMA's intervals, the same figures in two Beam stages instead of about 45
        signature_calls.install()  # the serving signature called by its input's name (signature_calls.py)
        baselines = input_dict.get(standard_component_specs.BASELINE_MODEL_KEY) or []
        policy = baselines[0].get_string_custom_property(COMPARISON_POLICY) if baselines else ""
        if baselines and not baselines[0].get_int_custom_property(HAS_BASELINE):
            logging.info("no baseline: %s", baselines[0].get_string_custom_property(BASELINE_NOTE))
            input_dict = dict(input_dict)
            input_dict[standard_component_specs.BASELINE_MODEL_KEY] = []
        exec_properties = newest_span_judged(exec_properties, input_dict.get(standard_component_specs.EXAMPLES_KEY))
        super().Do(input_dict, output_dict, exec_properties)
        evaluation_uri = artifact_utils.get_single_uri(output_dict[standard_component_specs.EVALUATION_KEY])
        thresholds = gate_thresholds_of(exec_properties[standard_component_specs.EVAL_CONFIG_KEY])
        record = noise_gate.judge(noise_gate.read_figures(evaluation_uri), thresholds.max_accuracy_drop,
                                  thresholds.max_class_recall_drop, policy or PromotionSettings().comparison_policy)
        if golden_set.has_golden_split(input_dict.get(standard_component_specs.EXAMPLES_KEY)):
            golden = golden_set.evaluate_golden(self, input_dict, exec_properties, evaluation_uri,
                                                thresholds.max_accuracy_drop, policy or PromotionSettings().comparison_policy)
            if golden:
                record["golden"] = golden
                record["refusals"] += golden["refusals"]
                record["warnings"] += golden["warnings"]
        noise_gate.write_record(evaluation_uri, record)
        for warning in record["warnings"]:
            print(f"Evaluator: warning: {warning}", flush=True)
        blessing = artifact_utils.get_single_instance(output_dict[standard_component_specs.BLESSING_KEY])
        if record["refusals"] and blessing.get_int_custom_property(evaluator_constants.ARTIFACT_PROPERTY_BLESSED_KEY):
            print("Evaluator: not blessed: " + "; ".join(record["refusals"]), flush=True)
            fileio.remove(os.path.join(blessing.uri, evaluator_constants.BLESSED_FILE_NAME))
            io_utils.write_string_file(os.path.join(blessing.uri, evaluator_constants.NOT_BLESSED_FILE_NAME), "")
            blessing.set_int_custom_property(evaluator_constants.ARTIFACT_PROPERTY_BLESSED_KEY,
                                              evaluator_constants.NOT_BLESSED_VALUE)


class GatedEvaluator(Evaluator):
    """TFX's Evaluator component, run by GatedEvaluatorExecutor."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(GatedEvaluatorExecutor)
