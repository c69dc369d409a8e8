"""components/promotion/noise_gate.py: the gate's figures with TFMA's intervals, and the decision on a change.

TFMA itself computes the intervals here (its jackknife, as the Evaluator runs it), on known answers:
each tf.Example carries both models' probabilities, so no model is needed and every outcome is set.
"""
import json

import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from scipy.stats import binomtest

from components import constants
from components.promotion import noise_gate
from components.promotion.eval_config import GateThresholds, build_eval_config, gate_thresholds_of, with_newest_span_judged
from tfma_materialized import evaluate_materialized

CLASSES = ["horses", "humans"]


def evaluate(tmp_path, outcomes, with_baseline=True, newest_span=None):
    """outcomes: [(label, candidate right?, baseline right?[, span])] -> TFMA's output folder (jackknife
    intervals); newest_span: the gate's config with that span's slice, as the Evaluator adds it."""
    data = str(tmp_path / "eval.tfrecord")
    with tf.io.TFRecordWriter(data) as writer:
        for index, (label, candidate_right, baseline_right, *span) in enumerate(outcomes):
            def probabilities(right):
                return [0.9, 0.1] if (label == 0) == right else [0.1, 0.9]

            features = {
                constants.LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
                constants.CLASS_NAME_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[CLASSES[label].encode()])),
                constants.FILE_PATH_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[f"{index}.png".encode()])),
                constants.SPAN_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[(span or [""])[0].encode()])),
                "candidate_probabilities": tf.train.Feature(float_list=tf.train.FloatList(value=probabilities(candidate_right))),
                "baseline_probabilities": tf.train.Feature(float_list=tf.train.FloatList(value=probabilities(baseline_right))),
            }
            writer.write(tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString())
    config = build_eval_config(GateThresholds(0.5, 0.02, 0.5, 0.02))
    if newest_span:
        config = with_newest_span_judged(config, newest_span)
    del config.model_specs[:]
    names = ["candidate", "baseline"] if with_baseline else [""]  # TFX names the models only when it has two
    for name in names:
        config.model_specs.add(name=name, label_key=constants.LABEL_KEY,
                               prediction_key=f"{name or 'candidate'}_probabilities", is_baseline=name == "baseline")
    for spec in config.metrics_specs:  # what TFMA's config defaults add for the Evaluator
        spec.model_names[:] = names
    return evaluate_materialized(data, config, str(tmp_path / "evaluation"))


def judge(output, policy="not_worse", drop=0.02):
    return noise_gate.judge(noise_gate.read_figures(output), drop, drop, policy)


@pytest.fixture(scope="module")
def forty_of_forty_one(tmp_path_factory):
    """41 images, one wrong; the serving model wrong on the same one and on one more."""
    outcomes = [(i % 2, True, True) for i in range(39)] + [(0, False, False), (1, True, False)]
    return evaluate(tmp_path_factory.mktemp("forty"), outcomes)


def test_accuracy_comes_with_tfmas_interval_and_the_number_of_images(forty_of_forty_one):
    overall = {c["slice"]: c for c in judge(forty_of_forty_one)["checks"]}["overall"]

    assert overall["value"] == pytest.approx(40 / 41, abs=1e-4) and overall["examples"] == 41
    assert overall["method"] == "jackknife"
    # The reference: one error in 41 is a standard error of sqrt(p(1-p)/n) = 0.024; TFMA's jackknife over
    # 20 random buckets estimates it from 20 values, so its 95% interval spans about 2 x 2.09 x 0.024,
    # give or take the estimate's own spread, and is cut at 1.
    reference = (40 / 41 * 1 / 41 / 41) ** 0.5
    assert overall["upper"] == 1.0
    assert 40 / 41 - 2.09 * reference * 1.6 < overall["lower"] < 40 / 41 - 2.09 * reference * 0.4


def test_a_slice_without_spread_gets_wilsons_interval_as_scipy_computes_it(forty_of_forty_one):
    humans = {c["slice"]: c for c in judge(forty_of_forty_one)["checks"]}["class_name=humans"]

    assert humans["value"] == 1.0 and humans["method"] == "wilson"
    reference = binomtest(humans["examples"], humans["examples"]).proportion_ci(method="wilson")
    assert (humans["lower"], humans["upper"]) == (round(reference.low, 4), 1.0)
    assert noise_gate.wilson_interval(40, 41) == pytest.approx(tuple(binomtest(40, 41).proportion_ci(method="wilson")), abs=1e-5)


def test_one_image_better_on_a_small_set_is_neither_better_nor_worse(forty_of_forty_one):
    record = judge(forty_of_forty_one)
    overall = {c["slice"]: c for c in record["checks"]}["overall"]

    assert overall["change"]["value"] == pytest.approx(1 / 41, abs=1e-4)
    assert overall["change"]["lower"] < 0 < overall["change"]["upper"]
    assert overall["change"]["verdict"] == "within noise"
    assert record["refusals"] == []
    # Promoting only on a gain beyond noise keeps the serving model.
    refusals = judge(forty_of_forty_one, policy="better")["refusals"]
    assert len(refusals) == 1 and "not better than the serving model's beyond noise" in refusals[0]


def test_one_image_worse_is_within_noise_and_the_point_estimate_still_decides(tmp_path):
    outcomes = [(i % 2, True, True) for i in range(40)] + [(0, False, True)]
    overall = {c["slice"]: c for c in judge(evaluate(tmp_path, outcomes))["checks"]}["overall"]

    assert overall["change"]["verdict"] == "within noise"


def test_a_clearly_worse_candidate_is_refused_even_within_the_tolerated_drop(tmp_path):
    # 400 images; the candidate gets 12 wrong that the serving model gets right: 3 points worse, every
    # time on the same examples, which the paired interval sees. Tolerating a 5-point drop, the point
    # estimate passes; the policy refuses what is worse beyond noise, "point" does not.
    outcomes = [(i % 2, True, True) for i in range(388)] + [(i % 2, False, True) for i in range(12)]
    output = evaluate(tmp_path, outcomes)
    record = judge(output, drop=0.05)

    overall = {c["slice"]: c for c in record["checks"]}["overall"]
    assert overall["change"]["verdict"] == "worse beyond noise" and overall["change"]["upper"] < 0
    assert any(r.startswith("[overall] accuracy is worse than the serving model's beyond noise: -0.0300")
               for r in record["refusals"])
    assert judge(output, policy="point", drop=0.05)["refusals"] == []


def test_a_candidate_better_on_the_older_spans_but_worse_on_the_newest_is_refused(tmp_path):
    # 360 images of span-1, where the candidate gets 20 right that the serving model got wrong; 80 of
    # span-2, where it gets 12 wrong that the serving model got right. Overall it gains 8 images (+0.018).
    older = [(i % 2, True, True, "span-1") for i in range(340)] + [(i % 2, True, False, "span-1") for i in range(20)]
    newest = [(i % 2, True, True, "span-2") for i in range(68)] + [(i % 2, False, True, "span-2") for i in range(12)]
    output = evaluate(tmp_path, older + newest, newest_span="span-2")
    record = judge(output, drop=0.05)

    checks = {c["slice"]: c for c in record["checks"]}
    assert checks["overall"]["change"]["value"] == pytest.approx(8 / 440, abs=1e-4)
    assert checks["overall"]["change"]["verdict"] != "worse beyond noise"
    span = checks["span=span-2"]
    assert span["metric"] == "accuracy" and span["examples"] == 80 and span["value"] == pytest.approx(68 / 80)
    assert span["change"]["value"] == pytest.approx(-12 / 80, abs=1e-4) and span["change"]["verdict"] == "worse beyond noise"
    assert [r for r in record["refusals"] if r.startswith("[span=span-2] accuracy is worse than the serving model's")]
    assert not [c for c in record["checks"] if c["slice"] == "span=span-1"]  # only the newest span is a slice
    # TFMA's own validation, which TFX's blessing follows, fails the newest span's change by the overall drop.
    failed = [(per_slice.slice_key, failure.metric_key.is_diff) for per_slice in
              tfma.load_validation_result(output).metric_validations_per_slice for failure in per_slice.failures]
    assert [diff for key, diff in failed if key.single_slice_keys[0].column == constants.SPAN_KEY] == [True]


def test_a_warning_when_one_image_moves_a_figure_more_than_the_tolerated_drop(forty_of_forty_one):
    warnings = judge(forty_of_forty_one, drop=0.02)["warnings"]

    assert any(w.startswith("one image moves the eval accuracy by 0.024 (41 eval images), more than the "
                            "tolerated drop 0.02") for w in warnings)
    assert judge(forty_of_forty_one, drop=0.05)["warnings"] == []


def test_without_a_serving_model_figures_carry_intervals_and_no_change(tmp_path):
    output = evaluate(tmp_path, [(i % 2, i != 3, True) for i in range(30)], with_baseline=False)
    record = judge(output)

    assert [c["change"] for c in record["checks"]] == [None, None, None] and record["refusals"] == []
    assert record["warnings"] == []  # no drop is judged: one image in 30 moving accuracy by 0.033 is no concern yet
    json.dumps(record)  # what gate_noise.json holds


def test_the_evaluators_thresholds_are_read_back_from_its_eval_config():
    from google.protobuf import json_format

    thresholds = GateThresholds(0.8, 0.02, 0.7, 0.05)
    assert gate_thresholds_of(json_format.MessageToJson(build_eval_config(thresholds))) == thresholds


def test_the_newest_spans_slice_leaves_the_thresholds_read_back_unchanged_and_has_no_bar_of_its_own():
    from google.protobuf import json_format

    thresholds = GateThresholds(0.8, 0.02, 0.7, 0.05)
    judged = with_newest_span_judged(build_eval_config(thresholds), "2024-06-01")
    assert gate_thresholds_of(json_format.MessageToJson(judged)) == thresholds
    span_slices = [s for s in judged.slicing_specs if s.feature_values]
    assert [dict(s.feature_values) for s in span_slices] == [{constants.SPAN_KEY: "2024-06-01"}]
    (bar,) = [t.threshold for m in judged.metrics_specs[0].metrics for t in m.per_slice_thresholds
              if t.slicing_specs[0].feature_values]
    assert not bar.HasField("value_threshold") and bar.change_threshold.absolute.value == pytest.approx(-0.02)
