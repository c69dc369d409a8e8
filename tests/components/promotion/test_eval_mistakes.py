"""components/promotion/eval_mistakes.py: the Evaluator keeps the candidate's mistakes for the report's gallery."""
import json

import numpy as np
from tensorflow_model_analysis.metrics import metric_types

from components import constants
from components.promotion.eval_config import GateThresholds, build_eval_config
from components.promotion.eval_mistakes import EVAL_MISTAKES, EvalMistakes

CONFIG = build_eval_config(GateThresholds(0.5, 0.1, 0.5, 0.1))


def combiner(kept):
    computations = EvalMistakes(kept=kept).computations(eval_config=CONFIG, model_names=[""], output_names=[""])
    assert len(computations) == 1 and [k.name for k in computations[0].keys] == [EVAL_MISTAKES]
    return computations[0].combiner


def example(file_path, label, probabilities):
    return metric_types.StandardMetricInputs(
        labels=np.array([label]),
        predictions=np.array(probabilities, dtype=np.float32),
        example_weights=np.array([1.0]),
        features={constants.FILE_PATH_KEY: np.array([file_path.encode()], dtype=object)},
    )


EXAMPLES = [
    example("rock/a.jpg", 1, [0.1, 0.8, 0.1]),  # right
    example("rock/b.jpg", 1, [0.7, 0.2, 0.1]),  # wrong, 0.7 sure
    example("paper/c.jpg", 0, [0.05, 0.05, 0.9]),  # wrong, 0.9 sure
    example("scissors/d.jpg", 2, [0.6, 0.1, 0.3]),  # wrong, 0.6 sure
    example("paper/e.jpg", 0, [0.1, 0.9, 0.0]),  # wrong, 0.9 sure: a tie, broken by file name
    example("scissors/f.jpg", 2, [0.0, 0.0, 1.0]),  # right
]


def run(fn, parts):
    accumulators = []
    for part in parts:
        accumulator = fn.create_accumulator()
        for element in part:
            accumulator = fn.add_input(accumulator, element)
        accumulators.append(accumulator)
    (value,) = fn.extract_output(fn.merge_accumulators(accumulators)).values()
    return json.loads(value)


def test_counts_every_example_and_keeps_the_most_confident_mistakes_first():
    found = run(combiner(kept=3), [EXAMPLES])

    assert (found["evaluated"], found["wrong"]) == (6, 4)
    assert [m["file"] for m in found["mistakes"]] == ["paper/c.jpg", "paper/e.jpg", "rock/b.jpg"]
    assert found["mistakes"][0] == {"file": "paper/c.jpg", "label": 0, "probabilities": [0.05, 0.05, 0.9]}


def test_the_same_predictions_give_the_same_list_however_the_work_is_split():
    fn = combiner(kept=2)
    whole = run(fn, [EXAMPLES])

    assert run(fn, [EXAMPLES[3:], EXAMPLES[:1], EXAMPLES[1:3]]) == whole
    assert run(fn, [[e] for e in reversed(EXAMPLES)]) == whole


def test_a_long_run_of_mistakes_stays_bounded_while_it_is_counted():
    fn = combiner(kept=4)
    accumulator = fn.create_accumulator()
    for i in range(500):
        accumulator = fn.add_input(accumulator, example(f"rock/{i:03d}.jpg", 1, [0.5 + i / 1000, 0.5 - i / 1000, 0.0]))
        assert len(accumulator.mistakes) <= 8

    found = json.loads(next(iter(fn.extract_output(accumulator).values())))
    assert (found["evaluated"], found["wrong"]) == (500, 500)
    assert [m["file"] for m in found["mistakes"]] == ["rock/499.jpg", "rock/498.jpg", "rock/497.jpg", "rock/496.jpg"]
