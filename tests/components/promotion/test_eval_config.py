"""components/promotion/eval_config.py: the gate's bars, overall and per class, for any number of classes."""
import pytest
from tensorflow_model_analysis.metrics import metric_specs

from components import constants
from components.model.signatures import PROBABILITIES, SERVING_DEFAULT
from components.promotion.eval_config import ACCURACY, CONFUSION_MATRIX, GateThresholds, build_eval_config
from components.promotion.evaluation_report import per_class_scores

THRESHOLDS = GateThresholds(accuracy_threshold=0.92, max_accuracy_drop=0.01, class_recall_threshold=0.85,
                            max_class_recall_drop=0.03)


def thresholds_by_slice(config):
    """{(slice feature keys, is change threshold): threshold} as TFMA itself reads them."""
    found = {}
    for key, entries in metric_specs.metric_thresholds_from_metrics_specs(config.metrics_specs, config).items():
        assert key.name == ACCURACY
        for slice_spec, threshold in entries:
            found[(tuple(slice_spec.feature_keys), key.is_diff)] = threshold
    return found


def test_accuracy_is_gated_overall_and_each_class_recall_on_its_own_slice():
    found = thresholds_by_slice(build_eval_config(THRESHOLDS))

    assert found[((), False)].lower_bound.value == pytest.approx(0.92)
    assert found[((), True)].absolute.value == pytest.approx(-0.01)
    assert found[((constants.CLASS_NAME_KEY,), False)].lower_bound.value == pytest.approx(0.85)
    assert found[((constants.CLASS_NAME_KEY,), True)].absolute.value == pytest.approx(-0.03)
    assert len(found) == 4


def test_the_model_is_read_through_its_probability_vector_and_sliced_by_class():
    config = build_eval_config(THRESHOLDS)
    spec = config.model_specs[0]

    assert (spec.signature_name, spec.prediction_key, spec.label_key) == (SERVING_DEFAULT, PROBABILITIES, constants.LABEL_KEY)
    assert [list(s.feature_keys) for s in config.slicing_specs] == [[], [constants.CLASS_NAME_KEY]]
    names = [m.class_name for m in config.metrics_specs[0].metrics]
    assert names == ["SparseCategoricalAccuracy", "ExampleCount", CONFUSION_MATRIX, "EvalMistakes"]


def test_per_class_precision_and_recall_come_from_the_confusion_matrix():
    counts = [[8, 2, 0], [1, 9, 0], [0, 5, 5]]  # rows: true paper, rock, scissors

    scores = per_class_scores(counts, ["paper", "rock", "scissors"])

    assert scores["paper"] == {"precision": pytest.approx(8 / 9, abs=1e-4), "recall": 0.8, "examples": 10}
    assert scores["rock"] == {"precision": pytest.approx(9 / 16, abs=1e-4), "recall": 0.9, "examples": 10}
    assert scores["scissors"] == {"precision": 1.0, "recall": 0.5, "examples": 10}


def test_a_class_never_predicted_has_no_precision():
    scores = per_class_scores([[3, 0], [2, 0]], ["a", "b"])

    assert scores["b"] == {"precision": None, "recall": 0.0, "examples": 2}
