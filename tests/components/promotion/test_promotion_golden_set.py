"""components/promotion/golden_set.py: the golden pass's EvalConfig and its verdict."""
import tensorflow_model_analysis as tfma

from components.promotion.eval_config import build_eval_config, with_newest_span_judged
from components.promotion.golden_set import golden_eval_config, judge_golden
from components.promotion.thresholds import GateThresholds

THRESHOLDS = GateThresholds(accuracy_threshold=0.7, max_accuracy_drop=0.05, class_recall_threshold=0.6,
                            max_class_recall_drop=0.1)


def test_the_golden_pass_holds_the_gates_overall_bars_and_nothing_per_class():
    config = golden_eval_config(with_newest_span_judged(build_eval_config(THRESHOLDS), "span-2"))

    assert list(config.slicing_specs) == [tfma.SlicingSpec()]
    metrics = [metric for spec in config.metrics_specs for metric in spec.metrics]
    assert sorted(metric.class_name for metric in metrics) == ["ExampleCount", "SparseCategoricalAccuracy"]
    accuracy = next(metric for metric in metrics if metric.class_name == "SparseCategoricalAccuracy")
    assert len(accuracy.per_slice_thresholds) == 1
    threshold = accuracy.per_slice_thresholds[0].threshold
    assert threshold.value_threshold.lower_bound.value == 0.7
    assert threshold.change_threshold.absolute.value == -0.05
    assert config.options.confidence_intervals.method == tfma.ConfidenceIntervalOptions.JACKKNIFE


def figures(candidate, serving=None, change=None, examples=40):
    found = {"candidate": {"overall": {"accuracy": candidate, "example_count": {"value": examples}}}}
    if serving:
        found["baseline"] = {"overall": {"accuracy": serving, "example_count": {"value": examples}}}
    if change:
        found["change"] = {"overall": {"accuracy": change}}
    return found


def test_a_candidate_worse_than_the_serving_model_beyond_noise_on_the_golden_set_is_refused():
    judged = judge_golden(figures({"value": 0.8, "lower": 0.7, "upper": 0.9}, {"value": 0.95, "lower": 0.9, "upper": 1.0},
                                  {"value": -0.15, "lower": -0.25, "upper": -0.05}), [], 0.2, "not_worse")

    assert judged["verdict"] == "refused"
    assert judged["refusals"] == ["[golden set] accuracy is worse than the serving model's beyond noise: -0.1500 "
                                  "(95% interval -0.2500 to -0.0500)"]
    assert judged["candidate"]["value"] == 0.8 and judged["serving"]["value"] == 0.95 and judged["examples"] == 40
    # The same figures under the point policy: within the tolerated drop, passed.
    assert judge_golden(figures({"value": 0.8, "lower": 0.7, "upper": 0.9}, {"value": 0.95, "lower": 0.9, "upper": 1.0},
                                {"value": -0.15, "lower": -0.25, "upper": -0.05}), [], 0.2, "point")["verdict"] == "passed"


def test_tfmas_own_failure_on_the_golden_set_refuses_it_with_nothing_serving():
    judged = judge_golden(figures({"value": 0.4, "lower": 0.3, "upper": 0.5}), ["accuracy (candidate) = 0.4000: below 0.7"],
                          0.05, "not_worse")

    assert judged["verdict"] == "refused" and judged["serving"] is None and judged["change"] is None
    assert judged["refusals"] == ["[golden set] accuracy (candidate) = 0.4000: below 0.7"]


def test_a_golden_set_where_one_image_outweighs_the_tolerated_drop_warns_in_its_own_words():
    judged = judge_golden(figures({"value": 1.0}, {"value": 1.0}, {"value": 0.0, "lower": 0.0, "upper": 0.0}, examples=8),
                          [], 0.05, "not_worse")

    assert judged["verdict"] == "passed"
    assert judged["candidate"]["method"] == "wilson" and judged["candidate"]["lower"] < 1.0
    assert judged["warnings"] and judged["warnings"][0].startswith("golden set: one image moves the golden accuracy")

