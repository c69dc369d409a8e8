"""TFMA's jackknife intervals computed in two combining stages instead of about forty-five.

The gate's intervals are TFMA's delete-d jackknife (eval_config.py): the sliced examples are dealt into
20 random partitions, and every metric is computed on all of them and on each of the 20 sets that
leave one partition out. TFMA builds that as Beam transforms of their own
(tensorflow_model_analysis/evaluators/jackknife.py: ComputeWithConfidenceIntervals): a Partition, one
CombinePerKey per partition, then per left-out partition a Flatten, a CombinePerKey and the derived
metrics, about 45 stages that Beam's in-process runner executes one after another. On horse-or-human's
183 eval images each partition cost 0.28 s of stage overhead (20 of them: 5.7 s of the Evaluator's
11-13 s; measured 2026-12-04 by changing the partition count).

Here the same arithmetic in two stages: one CombinePerKey keeps each slice's 20 partition accumulators
side by side (each slice-example pair drawn into a partition by the same seeded `randint`, in the same
order, as TFMA's Partition), one step merges them into the full sample and the 20 leave-one-out
samples, TFMA's own derived-metrics transform runs on all of them at once, and TFMA's own
_JackknifeSampleCombineFn turns them into intervals. Its figures equal TFMA's for the same seed
(tests/components/promotion/test_single_stage_jackknife.py). `install()` swaps it in for TFMA's
function when the TFMA in this environment still has the signature it was written against; the
Evaluator's executor calls it (evaluator_executor.py), and the EvalConfig it is used with has no
cross-slice comparisons, which would need the slices side by side.
"""
from __future__ import annotations

import copy
import inspect
from typing import List, Optional

import apache_beam as beam
import numpy as np
from absl import logging
from tensorflow_model_analysis.evaluators import confidence_intervals_util
from tensorflow_model_analysis.evaluators import jackknife as tfma_jackknife

_FULL_SAMPLE_ID = tfma_jackknife._FULL_SAMPLE_ID  # noqa: SLF001 (TFMA's marker of the unsampled metrics)
_TFMA_PARAMETERS = ("sliced_extracts", "computations_combine_fn", "derived_metrics_ptransform",
                    "num_jackknife_samples", "skip_ci_metric_keys", "random_seed_for_testing")


class _PartitionAccumulators(beam.CombineFn):
    """A slice's examples dealt into `partitions` accumulators of the metrics' CombineFn (None where a
    partition got no example of the slice, as TFMA's per-partition CombinePerKey then emits nothing)."""

    def __init__(self, combine_fn: beam.CombineFn, partitions: int, random_state: np.random.RandomState):
        self._combine_fn = combine_fn
        self._partitions = partitions
        self._random_state = random_state

    def setup(self, *args, **kwargs):
        self._combine_fn.setup(*args, **kwargs)

    def create_accumulator(self) -> List:
        return [None] * self._partitions

    def add_input(self, accumulator: List, element) -> List:
        partition = self._random_state.randint(self._partitions)  # TFMA's partition_fn, draw for draw
        if accumulator[partition] is None:
            accumulator[partition] = self._combine_fn.create_accumulator()
        accumulator[partition] = self._combine_fn.add_input(accumulator[partition], element)
        return accumulator

    def merge_accumulators(self, accumulators) -> List:
        accumulators = iter(accumulators)
        merged = next(accumulators)
        for other in accumulators:
            for partition, part in enumerate(other):
                if part is None:
                    continue
                merged[partition] = part if merged[partition] is None else \
                    self._combine_fn.merge_accumulators([merged[partition], part])
        return merged

    def compact(self, accumulator: List) -> List:
        return [None if part is None else self._combine_fn.compact(part) for part in accumulator]

    def extract_output(self, accumulator: List) -> List:
        return accumulator


class _Samples(beam.DoFn):
    """(slice, partition accumulators) -> ((slice, sample id), metrics) for the full sample and each
    leave-one-out sample that still holds an example (TFMA computes no sample of nothing either)."""

    def __init__(self, combine_fn: beam.CombineFn):
        self._combine_fn = combine_fn

    def setup(self):
        self._combine_fn.setup()

    def _metrics_of(self, parts: List):
        # As TFMA's _AccumulatorCombineFn: a fresh accumulator merged with copies of the partitions' (in
        # TFMA each sample's copy comes through Beam's coder; merging may write into its inputs).
        merged = self._combine_fn.merge_accumulators(
            [self._combine_fn.create_accumulator()] + [copy.deepcopy(part) for part in parts])
        return self._combine_fn.extract_output(merged)

    def process(self, element):
        slice_key, partitions = element
        present = [index for index, part in enumerate(partitions) if part is not None]
        yield (slice_key, _FULL_SAMPLE_ID), self._metrics_of([partitions[index] for index in present])
        for left_out in range(len(partitions)):
            kept = [partitions[index] for index in present if index != left_out]
            if kept:
                yield (slice_key, left_out), self._metrics_of(kept)


def _to_sample(keyed, metrics):
    slice_key, sample_id = keyed
    return slice_key, confidence_intervals_util.SampleMetrics(metrics=metrics, sample_id=sample_id)


@beam.ptransform_fn
def ComputeWithConfidenceIntervals(  # noqa: N802 (TFMA's name and signature, which this replaces)
    sliced_extracts, computations_combine_fn, derived_metrics_ptransform, num_jackknife_samples: int,
    skip_ci_metric_keys=None, random_seed_for_testing: Optional[int] = None,
):
    """TFMA's jackknife.ComputeWithConfidenceIntervals, the same figures in two combining stages."""
    random_state = np.random.RandomState(random_seed_for_testing)
    return (
        sliced_extracts
        | "CombinePartitionsPerSlice" >> beam.CombinePerKey(
            _PartitionAccumulators(computations_combine_fn, num_jackknife_samples, random_state))
        | "FullAndLeaveOneOutSamples" >> beam.ParDo(_Samples(computations_combine_fn))
        # TFMA's derived and diff metrics (candidate minus baseline, so a change's interval is paired): Maps
        # over (key, metrics) that pass the key through, here (slice, sample id).
        | "AddDerivedMetrics" >> derived_metrics_ptransform
        | "AddSampleIdToValue" >> beam.MapTuple(_to_sample)
        | "CombineJackknifeSamplesPerSlice" >> beam.CombinePerKey(
            tfma_jackknife._JackknifeSampleCombineFn(num_jackknife_samples, skip_ci_metric_keys))  # noqa: SLF001
    )


_tfma_original = tfma_jackknife.ComputeWithConfidenceIntervals


def install() -> bool:
    """Puts ComputeWithConfidenceIntervals in TFMA's place for this process (idempotent). False, with a
    log line, when TFMA's function is not the one this was written against: TFMA's own then runs."""
    if tfma_jackknife.ComputeWithConfidenceIntervals is ComputeWithConfidenceIntervals:
        return True
    try:
        # beam.ptransform_fn wraps the function with functools.wraps: __wrapped__ is TFMA's own.
        parameters = tuple(inspect.signature(_tfma_original.__wrapped__).parameters)
    except (AttributeError, TypeError, ValueError):
        parameters = ()
    if parameters != _TFMA_PARAMETERS:
        logging.warning("TFMA's jackknife takes %s, not %s: its own (slower) intervals run", parameters,
                        _TFMA_PARAMETERS)
        return False
    tfma_jackknife.ComputeWithConfidenceIntervals = ComputeWithConfidenceIntervals
    return True
