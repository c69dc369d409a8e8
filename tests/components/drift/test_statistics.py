"""compare() on spans built from synthetic features and counts: every check's statistic, verdict and the
reference's JSON round trip."""
import json

import numpy as np
import pytest

from components.drift.settings import DriftSettings
from components.drift.statistics import (
    DRIFT, OK, ReferenceStatistics, compare, drifted, linf_shift, sampled_rows,
)

EXTRACTOR = "synthetic, 8 numbers an image"


def span(classes, features, groups=None, formats=None, sizes=None, extractor=EXTRACTOR, max_rows=256, seed=0):
    count = len(classes)
    groups = groups if groups is not None else [f"g{i // 4}" for i in range(count)]
    rows = sampled_rows(count, max_rows, seed)
    return ReferenceStatistics.of_span(classes, formats or ["png"] * count, sizes or [(300, 300)] * count,
                                       groups, rows, np.asarray(features)[rows], extractor)


def by_name(checks):
    return {check.name: check for check in checks}


def balanced(count):
    return ["horses", "humans"] * (count // 2)


def test_a_span_of_the_same_distribution_passes_every_check():
    rng = np.random.default_rng(0)
    reference = span(balanced(400), rng.normal(size=(400, 8)))
    current = span(balanced(200), rng.normal(size=(200, 8)))
    checks = compare(reference, current, DriftSettings())
    assert [c.name for c in checks] == ["class_prior", "missing_classes", "content_mmd2", "format_share",
                                        "size_median_ratio", "size_outside_share"]
    assert drifted(checks) == []
    assert all(c.verdict == OK for c in checks)


def test_a_shifted_mean_is_content_drift_with_its_p_value():
    rng = np.random.default_rng(1)
    reference = span(balanced(400), rng.normal(size=(400, 8)))
    current = span(balanced(200), rng.normal(size=(200, 8)) + 1.0)
    content = by_name(compare(reference, current, DriftSettings()))["content_mmd2"]
    assert content.verdict == DRIFT and content.statistic > 0.05
    assert content.p_value == pytest.approx(1 / (DriftSettings().drift_permutations + 1))


def test_a_large_effect_that_is_not_significant_is_not_drift():
    # Two groups a side: group-wise, the least possible p-value is 1 / C(4, 2), far above 0.05.
    rng = np.random.default_rng(2)
    reference = span(balanced(8), rng.normal(size=(8, 8)), groups=["a"] * 4 + ["b"] * 4)
    current = span(balanced(8), rng.normal(size=(8, 8)) + 1.0, groups=["c"] * 4 + ["d"] * 4)
    content = by_name(compare(reference, current, DriftSettings()))["content_mmd2"]
    assert content.statistic > DriftSettings().drift_content_threshold
    assert content.p_value > 0.1 and content.verdict == OK


def test_class_prior_distance_and_a_missing_class_are_exact_on_small_counts():
    features = np.zeros((10, 8))
    reference = span(["a"] * 5 + ["b"] * 3 + ["c"] * 2, features)
    current = span(["a"] * 4, features[:4])
    checks = by_name(compare(reference, current, DriftSettings()))
    assert checks["class_prior"].statistic == pytest.approx(0.5)  # a: 0.5 -> 1.0
    assert checks["class_prior"].detail == "largest change: a 0.50 -> 1.00"
    assert checks["missing_classes"].statistic == 2.0 and checks["missing_classes"].verdict == DRIFT
    assert checks["missing_classes"].detail == "missing: b, c"
    allowed = DriftSettings(drift_missing_classes_allowed=2, drift_class_prior_threshold=0.5)
    assert by_name(compare(reference, current, allowed))["missing_classes"].verdict == OK
    assert by_name(compare(reference, current, allowed))["class_prior"].verdict == OK  # at the threshold: ok


def test_linf_shift_counts_a_new_name_too():
    assert linf_shift({"png": 3, "jpeg": 1}, {"png": 1, "jpeg": 1, "gif": 2}) == (pytest.approx(0.5), "gif 0.00 -> 0.50")


def test_format_and_size_changes_are_drift():
    rng = np.random.default_rng(3)
    reference = span(balanced(40), rng.normal(size=(40, 8)), sizes=[(300, 300)] * 20 + [(200, 260)] * 20)
    current = span(balanced(40), rng.normal(size=(40, 8)), formats=["jpeg"] * 30 + ["png"] * 10,
                   sizes=[(150, 150)] * 40)
    checks = by_name(compare(reference, current, DriftSettings()))
    assert checks["format_share"].statistic == pytest.approx(0.75) and checks["format_share"].verdict == DRIFT
    assert checks["size_median_ratio"].statistic == pytest.approx(280 / 150)  # the larger of width's 250 / 150
    assert checks["size_median_ratio"].detail == "median height 280 -> 150 px"
    assert checks["size_outside_share"].statistic == 1.0 and checks["size_outside_share"].verdict == DRIFT


def test_the_json_round_trip_keeps_every_field():
    rng = np.random.default_rng(4)
    reference = span(balanced(600), rng.normal(size=(600, 8)), formats=["png"] * 500 + ["jpeg"] * 100,
                     sizes=[(300 + i % 7, 280) for i in range(600)], max_rows=100, seed=7)
    back = ReferenceStatistics.from_json(reference.to_json())
    assert back.feature_rows.shape == (100, 8) and back.feature_rows.dtype == np.float16
    assert np.array_equal(back.feature_rows, reference.feature_rows)
    assert np.array_equal(back.feature_sizes, reference.feature_sizes)
    assert (back.class_counts, back.format_counts, back.size, back.feature_groups, back.feature_classes,
            back.feature_extractor) == (reference.class_counts, reference.format_counts, reference.size,
                                        reference.feature_groups, reference.feature_classes, EXTRACTOR)
    assert back.images == 600 and reference.class_counts == {"horses": 300, "humans": 300}
    assert [c.verdict for c in compare(back, reference)] == [OK] * 6


def test_a_file_from_a_later_release_or_a_damaged_one_is_named():
    text = json.loads(span(balanced(4), np.zeros((4, 8))).to_json())
    with pytest.raises(ValueError, match="ref.json: .*upgrade"):
        ReferenceStatistics.from_json(json.dumps({**text, "schema_version": 99}), source="ref.json")
    with pytest.raises(ValueError, match="ref.json: not a drift reference"):
        ReferenceStatistics.from_json(json.dumps({k: v for k, v in text.items() if k != "size"}), source="ref.json")


def test_features_of_another_base_are_refused():
    reference = span(balanced(4), np.zeros((4, 8)))
    with pytest.raises(ValueError, match="cannot be compared"):
        compare(reference, span(balanced(4), np.zeros((4, 8)), extractor="another base"))


def test_a_span_of_one_image_is_not_passed_on_content():
    rng = np.random.default_rng(5)
    content = by_name(compare(span(balanced(10), rng.normal(size=(10, 8))), span(["horses"], rng.normal(size=(1, 8)))))
    assert content["content_mmd2"].verdict == DRIFT and "fewer than 2" in content["content_mmd2"].detail


def test_the_feature_sample_is_bounded_and_seeded():
    assert list(sampled_rows(5, 10, seed=0)) == [0, 1, 2, 3, 4]
    first, again = sampled_rows(1000, 256, seed=3), sampled_rows(1000, 256, seed=3)
    assert len(first) == 256 and np.array_equal(first, again) and np.all(np.diff(first) > 0)
    assert not np.array_equal(first, sampled_rows(1000, 256, seed=4))
