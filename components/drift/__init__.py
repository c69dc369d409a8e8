"""The drift gate's statistics: what a span of new images is compared with (the statistics of the data the
serving model was trained on) and the checks that say whether it drifted (class priors, content, format,
size). Pure numpy and scipy, apart from features.py, which runs the pipeline's frozen base.

How a gate uses it: when a model is pushed, the data it was trained on is summarised
(features.span_statistics) and written beside its push record as statistics.REFERENCE_FILE
(ReferenceStatistics.to_json); before the next Trainer, the serving version's file is read back
(from_json), the newest span summarised the same way, and statistics.compare(reference, span,
DriftSettings) answers one DriftCheck per check; statistics.drifted(checks) are the ones that stop a run.
The thresholds' defaults are measured: docs/quality.md, "The drift gate's thresholds".
"""
