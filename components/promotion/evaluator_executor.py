"""Evaluator executor: TFX's own, told when the baseline artifact holds no model.

ServingBaseline always emits an artifact; when it is marked has_baseline=0
it is dropped here, and TFX's Evaluator then ignores the change thresholds
(its rubber-stamp rule) and judges the candidate on the absolute ones.
"""
from absl import logging
from tfx.components import Evaluator
from tfx.components.evaluator import executor as tfx_evaluator
from tfx.dsl.components.base import executor_spec
from tfx.types import standard_component_specs

from components.promotion.baseline import BASELINE_NOTE, HAS_BASELINE


class GatedEvaluatorExecutor(tfx_evaluator.Executor):
    def Do(self, input_dict, output_dict, exec_properties):
        baselines = input_dict.get(standard_component_specs.BASELINE_MODEL_KEY) or []
        if baselines and not baselines[0].get_int_custom_property(HAS_BASELINE):
            logging.info("no baseline: %s", baselines[0].get_string_custom_property(BASELINE_NOTE))
            input_dict = dict(input_dict)
            input_dict[standard_component_specs.BASELINE_MODEL_KEY] = []
        super().Do(input_dict, output_dict, exec_properties)


class GatedEvaluator(Evaluator):
    """TFX's Evaluator component, run by GatedEvaluatorExecutor."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(GatedEvaluatorExecutor)
