"""The content check's two-sample test: maximum mean discrepancy (MMD) with an RBF kernel, and a
permutation p-value that permutes whole groups.

Images of one subject or clip are near-duplicates, not independent samples. Permuting single images
assumes they are, so a new set of subjects from the same distribution looks like drift to it (their
images cluster away from the reference's subjects). Permuting group labels between the two samples asks
the right question: is this span further from the reference than another draw of subjects would be?
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from scipy.spatial.distance import cdist, pdist


def median_bandwidth_sq(reference: np.ndarray) -> float:
    """The median heuristic: the median squared distance between two reference rows (the kernel's
    sigma squared), so that the kernel's scale is the reference's own and the statistic is unitless."""
    distances = pdist(np.asarray(reference, np.float64), "sqeuclidean")
    positive = distances[distances > 0]
    return float(np.median(positive)) if positive.size else 1.0


def rbf_kernel(rows: np.ndarray, bandwidth_sq: float) -> np.ndarray:
    """k(x, y) = exp(-|x - y|^2 / (2 sigma^2)) between every two rows."""
    rows = np.asarray(rows, np.float64)
    return np.exp(-cdist(rows, rows, "sqeuclidean") / (2.0 * bandwidth_sq))


def mmd2_unbiased(kernel: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Unbiased MMD^2 estimates of one kernel matrix over the pooled rows, for every assignment in `first`
    ([P, N] of 0/1, or [N]: 1 where a row belongs to the first sample). A sample of fewer than 2 rows
    gives nan."""
    first = np.atleast_2d(np.asarray(first, np.float64))
    second = 1.0 - first
    diagonal = np.diag(kernel)
    first_kernel = first @ kernel
    second_kernel = second @ kernel
    m, n = first.sum(axis=1), second.sum(axis=1)
    within_first = (first_kernel * first).sum(axis=1) - first @ diagonal
    within_second = (second_kernel * second).sum(axis=1) - second @ diagonal
    between = (first_kernel * second).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = within_first / (m * (m - 1)) + within_second / (n * (n - 1)) - 2.0 * between / (m * n)
    return np.where((m > 1) & (n > 1), estimate, np.nan)


def group_permutation_p_value(kernel: np.ndarray, first: np.ndarray, units: Sequence, observed: float,
                              permutations: int, seed: int, strata: Optional[Sequence] = None) -> float:
    """P(MMD^2 >= observed) when whole units (groups) are dealt at random to the two samples, as many units
    to each as they hold now: (1 + exceeding) / (1 + permutations). A unit must lie in one sample only.
    Units that are single rows give the classic image-wise test. With strata (one per row: the class), units
    are dealt within their stratum (a unit's is its rows' most common), so each sample keeps its mix of
    classes and a permutation cannot make a difference of class mix that the class-prior check judges
    already. A permutation that leaves a sample with fewer than 2 rows counts as exceeding (the p-value
    errs high, towards no drift found)."""
    first = np.asarray(first, bool)
    names, unit_of_row = np.unique(np.asarray(units), return_inverse=True)
    unit_in_first_now = np.zeros(names.size, bool)
    unit_in_first_now[unit_of_row[first]] = True
    if np.any(unit_in_first_now[unit_of_row[~first]]):
        raise ValueError("a group lies in both samples; give each sample's groups their own names")
    stratum_of_unit = np.zeros(names.size, int)
    if strata is not None:
        stratum_names, stratum_of_row = np.unique(np.asarray(strata), return_inverse=True)
        counts = np.zeros((names.size, stratum_names.size), int)
        np.add.at(counts, (unit_of_row, stratum_of_row), 1)
        stratum_of_unit = counts.argmax(axis=1)
    rng = np.random.default_rng(seed)
    unit_in_first = np.zeros((permutations, names.size), bool)
    for stratum in np.unique(stratum_of_unit):
        members = np.flatnonzero(stratum_of_unit == stratum)
        dealt = np.argsort(rng.random((permutations, members.size)), axis=1)[:, :unit_in_first_now[members].sum()]
        rows = np.repeat(np.arange(permutations), dealt.shape[1])
        unit_in_first[rows, members[dealt].ravel()] = True
    statistics = mmd2_unbiased(kernel, unit_in_first[:, unit_of_row])
    exceeding = np.count_nonzero(~(statistics < observed))  # nan counts as exceeding
    return float((1 + exceeding) / (1 + permutations))


def mmd_test(reference: np.ndarray, current: np.ndarray, reference_groups: Sequence, current_groups: Sequence,
             permutations: int, seed: int, strata: Optional[Sequence] = None, bandwidth_sq: Optional[float] = None):
    """(unbiased MMD^2, group-wise permutation p-value, bandwidth_sq) of two samples of feature rows; strata:
    one per row of both, reference first (group_permutation_p_value); the bandwidth from the reference by
    the median heuristic unless given."""
    reference, current = np.asarray(reference, np.float64), np.asarray(current, np.float64)
    if bandwidth_sq is None:
        bandwidth_sq = median_bandwidth_sq(reference)
    kernel = rbf_kernel(np.concatenate([reference, current]), bandwidth_sq)
    first = np.arange(len(reference) + len(current)) < len(reference)
    observed = float(mmd2_unbiased(kernel, first)[0])
    units = [f"reference:{g}" for g in reference_groups] + [f"current:{g}" for g in current_groups]
    p_value = group_permutation_p_value(kernel, first, units, observed, permutations, seed, strata)
    return observed, p_value, bandwidth_sq
