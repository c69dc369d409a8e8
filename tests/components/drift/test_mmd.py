"""The content check's test on synthetic features: MMD^2 near zero for one distribution, large for a
shifted one; the group-wise permutation is not fooled by a new set of clustered groups, the image-wise one is."""
import numpy as np
import pytest

from components.drift.mmd import group_permutation_p_value, median_bandwidth_sq, mmd2_unbiased, mmd_test, rbf_kernel


def test_identical_distributions_give_mmd2_near_zero_and_a_high_p_value():
    rng = np.random.default_rng(0)
    reference, current = rng.normal(size=(200, 8)), rng.normal(size=(200, 8))
    mmd2, p_value, _ = mmd_test(reference, current, range(200), range(200), permutations=200, seed=0)
    assert abs(mmd2) < 0.01 and p_value > 0.05


def test_a_shifted_mean_is_detected():
    rng = np.random.default_rng(1)
    reference, current = rng.normal(size=(200, 8)), rng.normal(size=(200, 8)) + 0.5
    mmd2, p_value, _ = mmd_test(reference, current, range(200), range(200), permutations=200, seed=0)
    assert mmd2 > 0.05 and p_value == pytest.approx(1 / 201)


def test_unbiased_mmd2_matches_its_definition_on_a_small_case():
    rows = np.array([[0.0], [1.0], [3.0], [4.0], [6.0]])
    kernel = rbf_kernel(rows, bandwidth_sq=2.0)
    x, y = kernel[:2, :2], kernel[2:, 2:]
    expected = (x.sum() - np.trace(x)) / 2 + (y.sum() - np.trace(y)) / 6 - 2 * kernel[:2, 2:].mean()
    assert mmd2_unbiased(kernel, [1, 1, 0, 0, 0])[0] == pytest.approx(expected)
    assert np.isnan(mmd2_unbiased(kernel, [1, 0, 0, 0, 0])[0])  # one row: no unbiased within-sample term


def test_the_bandwidth_is_the_reference_median_squared_distance():
    assert median_bandwidth_sq(np.array([[0.0], [1.0], [3.0]])) == pytest.approx(4.0)  # 1, 4, 9


def clustered_span(rng, groups, per_group, dimension=6):
    """Groups (subjects) whose centres come from one distribution, their images tight around each centre."""
    centres = rng.normal(size=(groups, dimension))
    rows = np.repeat(centres, per_group, axis=0) + 0.1 * rng.normal(size=(groups * per_group, dimension))
    return rows, np.repeat(np.arange(groups), per_group)


def test_a_new_set_of_groups_is_drift_to_image_wise_permutation_but_not_to_group_wise():
    image_wise, group_wise = [], []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        reference, reference_groups = clustered_span(rng, groups=12, per_group=15)
        current, current_groups = clustered_span(rng, groups=12, per_group=15)  # other subjects, same distribution
        rows = np.concatenate([reference, current])
        kernel = rbf_kernel(rows, median_bandwidth_sq(reference))
        first = np.arange(len(rows)) < len(reference)
        observed = mmd2_unbiased(kernel, first)[0]
        image_wise.append(group_permutation_p_value(kernel, first, np.arange(len(rows)), observed, 300, seed))
        units = [f"r{g}" for g in reference_groups] + [f"c{g}" for g in current_groups]
        group_wise.append(group_permutation_p_value(kernel, first, units, observed, 300, seed))
    assert max(image_wise) < 0.01  # every new set of subjects looks like drift image by image
    assert sum(p > 0.05 for p in group_wise) >= 4  # group-wise, a p-value is uniform: mostly not significant


def test_a_group_on_both_sides_is_refused():
    kernel = rbf_kernel(np.arange(4.0).reshape(-1, 1), 1.0)
    with pytest.raises(ValueError, match="both samples"):
        group_permutation_p_value(kernel, np.array([1, 1, 0, 0], bool), ["a", "b", "b", "c"], 0.0, 10, 0)


def test_groups_are_dealt_within_their_class_so_a_shift_of_every_class_is_found():
    # Two classes far apart, one in many small groups, one in a few large ones (as horse-or-human's horses
    # and humans): dealing groups regardless of class lets a permutation move most of the large class to
    # one side, a difference larger than a real shift of both classes.
    def sample(rng, shift):
        rows, groups, classes = [], [], []
        for label, (centre, count, size) in enumerate(((0.0, 12, 4), (4.0, 3, 20))):
            for group in range(count):
                middle = centre + shift + 0.3 * rng.normal(size=3)
                rows.append(middle + 0.05 * rng.normal(size=(size, 3)))
                groups += [f"{label}-{group}"] * size
                classes += [label] * size
        return np.concatenate(rows), groups, classes

    for seed in range(3):
        rng = np.random.default_rng(seed)
        (reference, reference_groups, reference_classes), (current, current_groups, current_classes) = (
            sample(rng, 0.0), sample(rng, 0.3))
        unstratified = mmd_test(reference, current, reference_groups, current_groups, permutations=300, seed=0)
        stratified = mmd_test(reference, current, reference_groups, current_groups, permutations=300, seed=0,
                              strata=reference_classes + current_classes)
        assert stratified[0] == unstratified[0]  # the same statistic, weighed against another null
        assert stratified[1] < 0.01 and unstratified[1] > 0.2
