"""A TFMA metric that keeps the eval examples a model got wrong, so the report never runs the model again.

The Evaluator already runs every model on the whole eval split; this metric
collects, per model and slice, how many examples it saw, how many it got
wrong, and the most confidently wrong ones (file, true class id, every
class's probability), most confident first and by file name on ties, so the
same predictions give the same list however Beam splits the work. The value
is JSON bytes (TFMA stores it as a bytes metric: nothing gates on it, and it
has no change-vs-baseline). The report draws its misclassified gallery from
it and reads the images themselves from the eval split.
"""
from __future__ import annotations

import json
from typing import Iterable, List, Optional, Tuple

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import metric_types, metric_util

from components import constants

EVAL_MISTAKES = "eval_mistakes"
DEFAULT_KEPT = 24  # the report's gallery shows this many

# (-confidence, file, true class id, probabilities): sorted ascending = most confident mistake first.
_Mistake = Tuple[float, str, int, List[float]]


class EvalMistakes(metric_types.Metric):
    """Per slice: {"evaluated": n, "wrong": n, "mistakes": [{file, label, probabilities}]} as JSON bytes."""

    def __init__(self, name: str = EVAL_MISTAKES, kept: int = DEFAULT_KEPT):
        super().__init__(_eval_mistakes, name=name, kept=kept)


def _eval_mistakes(
    name: str,
    kept: int,
    eval_config=None,
    model_names: Optional[List[str]] = None,
    output_names: Optional[List[str]] = None,
) -> metric_types.MetricComputations:
    computations = []
    for model_name in model_names or [""]:
        for output_name in output_names or [""]:
            key = metric_types.MetricKey(name=name, model_name=model_name, output_name=output_name)
            computations.append(
                metric_types.MetricComputation(
                    keys=[key],
                    preprocessors=[metric_types.FeaturePreprocessor(feature_keys=[constants.FILE_PATH_KEY])],
                    combiner=_EvalMistakesCombiner(key, eval_config, kept),
                )
            )
    return computations


def _text(value) -> str:
    while isinstance(value, np.ndarray):
        value = value.reshape(-1)[0] if value.size else b""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class _Accumulator:
    __slots__ = ("evaluated", "wrong", "mistakes")

    def __init__(self):
        self.evaluated = 0
        self.wrong = 0
        self.mistakes: List[_Mistake] = []


class _EvalMistakesCombiner(beam.CombineFn):
    def __init__(self, key: metric_types.MetricKey, eval_config, kept: int):
        self._key = key
        self._eval_config = eval_config
        self._kept = kept

    def _trim(self, accumulator: _Accumulator) -> _Accumulator:
        accumulator.mistakes = sorted(accumulator.mistakes)[: self._kept]
        return accumulator

    def create_accumulator(self) -> _Accumulator:
        return _Accumulator()

    def add_input(self, accumulator: _Accumulator, element: metric_types.StandardMetricInputs) -> _Accumulator:
        for label, prediction, _ in metric_util.to_label_prediction_example_weight(
            element, eval_config=self._eval_config, model_name=self._key.model_name,
            output_name=self._key.output_name, flatten=False, require_single_example_weight=True,
        ):
            probabilities = np.asarray(prediction, dtype=float).reshape(-1)
            true_class = int(np.asarray(label).reshape(-1)[0])
            predicted = int(np.argmax(probabilities))
            accumulator.evaluated += 1
            if predicted == true_class:
                continue
            accumulator.wrong += 1
            file_path = _text(element.features.get(constants.FILE_PATH_KEY, b""))
            accumulator.mistakes.append(
                (-float(probabilities[predicted]), file_path, true_class, [round(float(p), 4) for p in probabilities])
            )
        if len(accumulator.mistakes) > 2 * self._kept:
            self._trim(accumulator)
        return accumulator

    def merge_accumulators(self, accumulators: Iterable[_Accumulator]) -> _Accumulator:
        merged = _Accumulator()
        for accumulator in accumulators:
            merged.evaluated += accumulator.evaluated
            merged.wrong += accumulator.wrong
            merged.mistakes.extend(accumulator.mistakes)
        return self._trim(merged)

    def extract_output(self, accumulator: _Accumulator) -> metric_types.MetricsDict:
        self._trim(accumulator)
        value = {
            "evaluated": accumulator.evaluated,
            "wrong": accumulator.wrong,
            "mistakes": [
                {"file": file_path, "label": label, "probabilities": probabilities}
                for _, file_path, label, probabilities in accumulator.mistakes
            ],
        }
        return {self._key: json.dumps(value, sort_keys=True).encode("utf-8")}


metric_types.register_metric(EvalMistakes)
