"""What the DriftGate does (component.py only wires it into TFX): read the ingested images, summarise the
window and its newest span in one pass through the frozen base, compare the newest span with the serving
model's reference, write the report, and stop the run on drift unless drift is accepted with a reason.

The window's summary is what the Pusher keeps beside the push record of the model trained on it
(statistics.REFERENCE_FILE), so the next run's gate compares with the data the serving model saw.
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from components import constants
from components.drift.settings import DriftSettings
from components.run_stop import stop_here
from components.drift.image_facts import image_format, image_size
from components.drift.statistics import (REFERENCE_FILE, DriftCheck, ReferenceStatistics, compare, drifted,
                                         sampled_rows)
from components.serving import versions as serving_versions

REPORT_FILE = "drift_report.json"
# A gate that stops the run also keeps its report here, beside its output folders: TFX's launcher removes a
# failed execution's outputs (tfx/orchestration/portable/launcher.py: outputs_utils.remove_output_dirs on an
# executor error), and the run's summary still reads the checks (stopped_report_dir).
STOPPED_FOLDER = "stopped"
# The gate's verdicts: the span passed every check, drifted (the run stops), drifted but accepted with a
# reason (the run goes on), or could not be compared (the run goes on; the report says why).
PASSED, DRIFTED, ACCEPTED, NO_REFERENCE = "ok", "drift", "accepted", "no reference"
ACCEPT_FIX = "--accept-drift --reason TEXT"
# The same for one Kubeflow run: the reason goes in as the run parameter accept_drift_reason.
KUBEFLOW_ACCEPT_FIX = f"transfer-pipeline submit {ACCEPT_FIX}"


# Examples parsed at once when the gate reads the window: about 100 KB of image bytes each.
READ_BATCH = 128


class DriftError(RuntimeError):
    """The newest span drifted beyond a threshold; the message names each failed check and the fix."""


@dataclasses.dataclass(frozen=True)
class IngestedImages:
    """Every ingested image of the window (both splits), with its class, group and span."""

    images: List[bytes]
    class_names: List[str]
    groups: List[str]
    spans: List[str]

    def of_span(self, span: Optional[str]) -> np.ndarray:
        """Indices of the images of `span` (every image when span is None)."""
        if span is None:
            return np.arange(len(self.images))
        return np.array([i for i, name in enumerate(self.spans) if name == span], dtype=int)


def read_ingested_images(examples_uri: str, split_names: Sequence[str]) -> IngestedImages:
    """The images, classes, groups and spans of the tf.Examples in examples_uri's splits (ingestion's
    feature names, components/constants.py; a missing class, group or span reads as '', a feature's first
    value is taken). Parsed in batches by TensorFlow's parser: the gate runs beside the Transform, and
    every TensorFlow op waits for the GIL back once it ends. Horse-or-human's 915 examples one at a time
    took 8.1 s beside a thread running Python (0.2 s alone), in batches 1.0 s (0.3 s alone)."""
    import tensorflow as tf

    from components.tfrecords import tfrecord_reader

    texts = (constants.CLASS_NAME_KEY, constants.GROUP_KEY, constants.SPAN_KEY)
    spec = {key: tf.io.VarLenFeature(tf.string) for key in (constants.IMAGE_BYTES_KEY, *texts)}

    def first_values(sparse) -> List[bytes]:
        # [batch, most values of a row], rows padded with b"": a row without a value reads as b"".
        return [row[0] if len(row) else b"" for row in tf.sparse.to_dense(sparse, default_value=b"").numpy()]

    found = IngestedImages([], [], [], [])
    for split in split_names:
        for path in sorted(tf.io.gfile.glob(os.path.join(examples_uri, f"Split-{split}", "*"))):
            stop_here("DriftGate")
            for batch in tfrecord_reader(path).batch(READ_BATCH):
                parsed = tf.io.parse_example(batch, spec)
                images = first_values(parsed[constants.IMAGE_BYTES_KEY])
                if not all(images):
                    raise ValueError(f"{path}: an example without {constants.IMAGE_BYTES_KEY} bytes; the drift gate "
                                     "reads the examples ingestion writes (components/constants.py names their features)")
                found.images.extend(images)
                for key, values in zip(texts, (found.class_names, found.groups, found.spans)):
                    values.extend(value.decode("utf-8") for value in first_values(parsed[key]))
    if not found.images:
        raise ValueError(f"{examples_uri}: no examples in split(s) {', '.join(split_names)}; the drift gate has "
                         "nothing to summarise (ingestion's report says what was rejected)")
    return found


def summarise(ingested: IngestedImages, newest_span: Optional[str], extractor, settings: DriftSettings,
              with_newest: bool = True) -> Tuple[ReferenceStatistics, Optional[ReferenceStatistics]]:
    """(the window's summary, the newest span's) in one pass through the base: the two seeded samples
    (the newest span is part of the window) are united, and each image's features computed once.
    with_newest False (nothing to compare with): the window's alone."""
    count = len(ingested.images)
    window_rows = sampled_rows(count, settings.drift_feature_rows, settings.drift_seed)
    in_newest = ingested.of_span(newest_span)
    newest_local = sampled_rows(len(in_newest), settings.drift_feature_rows, settings.drift_seed)
    newest_rows = in_newest[newest_local] if with_newest else np.zeros(0, int)
    wanted = np.union1d(window_rows, newest_rows).astype(int)
    features = extractor([ingested.images[row] for row in wanted], label="drift statistics")
    position = {int(row): k for k, row in enumerate(wanted)}
    formats = [image_format(encoded) for encoded in ingested.images]
    sizes = [image_size(encoded) for encoded in ingested.images]

    def summary(indices: np.ndarray, rows: np.ndarray) -> ReferenceStatistics:
        # rows index into `indices` (the span's images); features are looked up by window index.
        pick = lambda values: [values[i] for i in indices]  # noqa: E731
        return ReferenceStatistics.of_span(
            pick(ingested.class_names), pick(formats), pick(sizes), pick(ingested.groups), rows,
            features[[position[int(indices[row])] for row in rows]], extractor.description)

    window = summary(np.arange(count), window_rows)
    newest = summary(in_newest, newest_local) if with_newest and len(in_newest) else None
    return window, newest


def serving_reference(serving_dir: str) -> Tuple[Optional[int], Optional[ReferenceStatistics], str]:
    """(the serving version, its drift reference, why there is none: "" when there is one)."""
    served = serving_versions.served_folder(serving_versions.scan(serving_dir))
    if served is None:
        return None, None, f"nothing is serving in {serving_dir} yet (a first run): nothing to compare with"
    if not served.managed:
        return served.version, None, (f"{served.path}, the version served, was not pushed by this pipeline (no "
                                      f"push record), so the data it was trained on is unknown")
    path = os.path.join(served.path, REFERENCE_FILE)
    if not os.path.exists(path):
        return served.version, None, (f"version {served.version} was pushed without a {REFERENCE_FILE} (before the "
                                      "drift gate, or with drift_gate off); the next push writes one")
    with open(path) as handle:
        return served.version, ReferenceStatistics.from_json(handle.read(), source=path), ""


@dataclasses.dataclass
class DriftReport:
    """REPORT_FILE: the gate's checks and its verdict."""

    verdict: str
    checks: List[DriftCheck]
    reference_version: Optional[int]
    newest_span: Optional[str]
    window: List[str]
    images: dict
    """{"newest span": images, "window": images}."""
    accepted_reason: Optional[str] = None
    why: str = ""
    """Why there was no comparison (verdict NO_REFERENCE), or what stopped the run."""
    seconds: Optional[float] = None

    def to_json(self) -> str:
        values = dataclasses.asdict(self)
        values["checks"] = [_finite(dataclasses.asdict(check)) for check in self.checks]
        return json.dumps(values, indent=2)

    def write(self, directory: str) -> None:
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, REPORT_FILE), "w") as handle:
            handle.write(self.to_json())


def _finite(check: dict) -> dict:
    """JSON has no NaN: a statistic that could not be computed is null."""
    return {key: (None if isinstance(value, float) and not np.isfinite(value) else value)
            for key, value in check.items()}


def stopped_report_dir(report_uri: str) -> str:
    """NODE/STOPPED_FOLDER/<execution id> for the report output NODE/<output key>/<execution id> (TFX's
    layout of an output's URI: tfx/orchestration/portable/outputs_utils.py)."""
    output_key_dir, execution_id = os.path.split(report_uri.rstrip("/"))
    return os.path.join(os.path.dirname(output_key_dir), STOPPED_FOLDER, execution_id)


def read_report(directory: str) -> Optional[dict]:
    """REPORT_FILE's mapping, None where the gate wrote none."""
    path = os.path.join(directory, REPORT_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def check_line(check: DriftCheck) -> str:
    p_value = f", p {check.p_value:.3f}" if check.p_value is not None else ""
    return (f"{check.name}: {check.statistic:.4g} > threshold {check.threshold:.4g}{p_value} "
            f"({check.detail})")


def decide(reference: Optional[ReferenceStatistics], why_none: str, newest: Optional[ReferenceStatistics],
           settings: DriftSettings, accepted_reason: str = "") -> Tuple[str, List[DriftCheck], str]:
    """(verdict, checks, why): NO_REFERENCE when there is nothing to compare, else PASSED, or DRIFTED /
    ACCEPTED (a non-empty accepted_reason) when a check is beyond its threshold."""
    if reference is None or newest is None:
        return NO_REFERENCE, [], why_none or "the newest span has no images"
    if reference.feature_extractor != newest.feature_extractor:
        return NO_REFERENCE, [], (f"the reference's features come from {reference.feature_extractor!r}, this run's "
                                  f"from {newest.feature_extractor!r} (the base or image size changed): they "
                                  "cannot be compared; this run's push writes a new reference")
    checks = compare(reference, newest, settings)
    failed = drifted(checks)
    if not failed:
        return PASSED, checks, ""
    lines = "; ".join(check_line(check) for check in failed)
    return (ACCEPTED if accepted_reason else DRIFTED), checks, lines


def drift_message(report: DriftReport) -> str:
    failed = [check for check in report.checks if check.verdict == DRIFTED]
    lines = [f"span {report.newest_span or '(the data dir)'} drifted from the data serving version "
             f"{report.reference_version} was trained on; stopping before the Trainer:"]
    lines += [f"  {check_line(check)}" for check in failed]
    lines.append(f"If the change is intended (new kinds of images the model must learn), run again with "
                 f"{ACCEPT_FIX} (on Kubeflow: {KUBEFLOW_ACCEPT_FIX}, for that one run); the reason is recorded. "
                 "Thresholds are settings (drift_*), see docs/quality.md \"The drift gate's thresholds\".")
    return "\n".join(lines)


def run_gate(examples_uri: str, split_names: Sequence[str], span_window: Optional[Sequence[str]],
             serving: Tuple[Optional[int], Optional[ReferenceStatistics], str], settings: DriftSettings,
             extractor_factory: Callable[[], object], report_dir: str, reference_dir: str,
             accepted_reason: str = "", log: Callable[[str], None] = print) -> DriftReport:
    """The gate's whole work: `serving` is serving_reference()'s answer; writes REPORT_FILE into report_dir
    and the window's REFERENCE_FILE into reference_dir, then raises DriftError if the newest span drifted
    and drift is not accepted (the report written to stopped_report_dir(report_dir) too). accepted_reason
    is the one source of acceptance (non-empty: accepted with that reason); of the settings only the
    thresholds and knobs are read, never accept_drift."""
    started = time.monotonic()
    window = list(span_window or [])
    newest_span = window[-1] if window else None
    version, reference, why_none = serving
    ingested = read_ingested_images(examples_uri, split_names)
    stop_here("DriftGate")
    extractor = extractor_factory()
    window_stats, newest_stats = summarise(ingested, newest_span, extractor, settings, with_newest=reference is not None)
    verdict, checks, why = decide(reference, why_none, newest_stats, settings, accepted_reason)
    os.makedirs(reference_dir, exist_ok=True)
    with open(os.path.join(reference_dir, REFERENCE_FILE), "w") as handle:
        handle.write(window_stats.to_json())
    report = DriftReport(
        verdict=verdict, checks=checks, reference_version=version if reference is not None else None,
        newest_span=newest_span, window=window,
        images={"newest span": int(len(ingested.of_span(newest_span))), "window": len(ingested.images)},
        accepted_reason=accepted_reason if verdict == ACCEPTED else None, why=why,
        seconds=round(time.monotonic() - started, 2))
    report.write(report_dir)
    if verdict == DRIFTED:
        report.write(stopped_report_dir(report_dir))
    against = f"serving version {version}" if reference is not None else why_none
    log(f"DriftGate: {verdict} ({against}); {report.seconds:.1f} s")
    if verdict == DRIFTED:
        raise DriftError(drift_message(report))
    return report
