"""components/promotion/jackknife.py: the gate's jackknife intervals in two stages, equal to TFMA's own.

Both run inside TFMA's evaluator on the same examples with the same seed (TFMA's
random_seed_for_testing), so both deal every slice's examples into the same partitions; every figure
TFMA writes (values, interval bounds, the paired change against the serving model, the error TFMA
records for a slice too small to have a sample without each partition) must then be equal, to float32
rounding: the two merge the same partitions in different orders.
"""
import random
import re

import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.evaluators import jackknife as tfma_jackknife

from components import constants
from components.promotion import jackknife
from components.promotion.eval_config import GateThresholds, build_eval_config, with_newest_span_judged
from tfma_materialized import evaluate_materialized

CLASSES = ["horses", "humans", "robots"]


def _write_examples(path, count, seed):
    """`count` eval examples of three classes, each model right about 85% of the time; the last is of
    span-2, a slice of one example, so one partition holds it all and leaving that one out leaves nothing."""
    rng = random.Random(seed)
    with tf.io.TFRecordWriter(path) as writer:
        for index in range(count):
            label = rng.randrange(len(CLASSES))

            def probabilities():
                guess = label if rng.random() < 0.85 else (label + 1) % len(CLASSES)
                return [0.8 if k == guess else 0.1 for k in range(len(CLASSES))]

            features = {
                constants.LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
                constants.CLASS_NAME_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[CLASSES[label].encode()])),
                constants.FILE_PATH_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[f"{index}.png".encode()])),
                constants.SPAN_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(
                    value=[b"span-2" if index == count - 1 else b"span-1"])),
                "candidate_probabilities": tf.train.Feature(float_list=tf.train.FloatList(value=probabilities())),
                "baseline_probabilities": tf.train.Feature(float_list=tf.train.FloatList(value=probabilities())),
            }
            writer.write(tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString())


def _evaluate(data, output, compute, seed):
    """TFMA's evaluation of `data` (the gate's EvalConfig on materialized predictions of two models) with
    `compute` as TFMA's jackknife -> every MetricsForSlice it wrote, as text, by slice."""
    config = with_newest_span_judged(build_eval_config(GateThresholds(0.5, 0.02, 0.5, 0.02)), "span-2")
    del config.model_specs[:]
    for name in ("candidate", "baseline"):
        config.model_specs.add(name=name, label_key=constants.LABEL_KEY, prediction_key=f"{name}_probabilities",
                               is_baseline=name == "baseline")
    for spec in config.metrics_specs:
        spec.model_names[:] = ["candidate", "baseline"]
    original = tfma_jackknife.ComputeWithConfidenceIntervals
    tfma_jackknife.ComputeWithConfidenceIntervals = compute
    try:
        evaluate_materialized(data, config, output, random_seed_for_testing=seed)
    finally:
        tfma_jackknife.ComputeWithConfidenceIntervals = original
    return {str(metrics.slice_key): str(metrics) for metrics in tfma.load_metrics(output)}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    folder = tmp_path_factory.mktemp("jackknife")
    data = str(folder / "eval.tfrecord")
    _write_examples(data, 183, seed=3)
    tfmas = _evaluate(data, str(folder / "tfma"), tfma_jackknife.ComputeWithConfidenceIntervals, seed=11)
    ours = _evaluate(data, str(folder / "ours"), jackknife.ComputeWithConfidenceIntervals, seed=11)
    return tfmas, ours


_NUMBER = re.compile(r"-?\d+\.\d+(?:e-?\d+)?")


def test_every_figure_equals_tfmas_for_the_same_seed(both):
    tfmas, ours = both

    assert sorted(ours) == sorted(tfmas)
    for slice_key in tfmas:
        assert _NUMBER.sub("#", ours[slice_key]) == _NUMBER.sub("#", tfmas[slice_key]), slice_key
        theirs = [float(number) for number in _NUMBER.findall(tfmas[slice_key])]
        assert [float(number) for number in _NUMBER.findall(ours[slice_key])] == pytest.approx(theirs, rel=1e-6, abs=1e-9)


def test_the_figures_hold_intervals_and_paired_changes(both):
    """The comparison above compares what matters: intervals on every slice large enough, the change
    against the baseline with its own interval, and TFMA's error on the slice smaller than the partitions."""
    _, ours = both
    overall = next(text for key, text in ours.items() if key.strip() == "")
    assert overall.count("lower_bound") >= 3  # both models' accuracy and its change
    assert "is_diff: true" in overall
    span_2 = next(text for key, text in ours.items() if "span-2" in key)
    assert "CI not computed because only" in span_2


def test_install_puts_it_in_tfmas_place_once():
    original = tfma_jackknife.ComputeWithConfidenceIntervals
    try:
        assert jackknife.install() and jackknife.install()
        assert tfma_jackknife.ComputeWithConfidenceIntervals is jackknife.ComputeWithConfidenceIntervals
    finally:
        tfma_jackknife.ComputeWithConfidenceIntervals = original
