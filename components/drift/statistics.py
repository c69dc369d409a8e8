"""What a span of images is summarised into, and the checks that compare a new span with the reference.

ReferenceStatistics is the summary of one span: its class counts, file formats, sizes, and a bounded,
seeded sample of the frozen base's pooled features with their group ids. The summary of the data a model
was trained on travels with the pushed model as REFERENCE_FILE (JSON, beside push_record.json in the
serving version's folder); a new span is summarised the same way and compare() weighs it against that.
Every check reports its statistic, its threshold, its verdict and, for the content check, the p-value.
"""
from __future__ import annotations

import base64
import dataclasses
import json
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from components.drift.mmd import mmd_test
from components.drift.settings import DriftSettings

REFERENCE_FILE = "drift_reference.json"
SCHEMA_VERSION = 1
OK, DRIFT = "ok", "drift"


@dataclasses.dataclass(frozen=True)
class DriftCheck:
    name: str
    statistic: float
    threshold: float
    verdict: str  # OK or DRIFT
    p_value: Optional[float] = None
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class SizeSummary:
    """Widths and heights of every image of a span, in pixels."""
    median_width: float
    median_height: float
    min_width: int
    max_width: int
    min_height: int
    max_height: int

    @classmethod
    def of(cls, sizes: np.ndarray) -> "SizeSummary":
        widths, heights = sizes[:, 0], sizes[:, 1]
        return cls(float(np.median(widths)), float(np.median(heights)), int(widths.min()), int(widths.max()),
                   int(heights.min()), int(heights.max()))


def sampled_rows(count: int, max_rows: int, seed: int) -> np.ndarray:
    """The rows of a span of `count` images whose features are kept: all, or a seeded sample of max_rows,
    in their original order."""
    if count <= max_rows:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=max_rows, replace=False))


@dataclasses.dataclass(frozen=True, eq=False)  # arrays inside: == would be ambiguous, so identity
class ReferenceStatistics:
    """One span's summary (the reference is the one that travels with a model). feature_rows are the
    pooled features of a sample of the images, float16; feature_groups, feature_classes and feature_sizes
    their groups, classes and (width, height); feature_extractor names what made them, so features of
    another base are refused."""
    class_counts: Dict[str, int]
    format_counts: Dict[str, int]
    size: SizeSummary
    feature_extractor: str
    feature_rows: np.ndarray
    feature_groups: Tuple[str, ...]
    feature_classes: Tuple[str, ...]
    feature_sizes: np.ndarray

    @classmethod
    def of_span(cls, class_names: Sequence[str], formats: Sequence[str], sizes: Sequence[Tuple[int, int]],
                groups: Sequence[str], rows: np.ndarray, features: np.ndarray,
                feature_extractor: str) -> "ReferenceStatistics":
        """Every image's class, format, (width, height) and group; `rows` (sampled_rows) the images whose
        pooled `features` ([len(rows), dimension]) are kept."""
        if not len(class_names):
            raise ValueError("a span with no images has no statistics; ingest some images first")
        sizes = np.asarray(sizes, np.int32).reshape(-1, 2)
        rows = np.asarray(rows, int)
        if len(features) != len(rows):
            raise ValueError(f"{len(features)} feature rows for {len(rows)} sampled images")
        return cls(
            class_counts=dict(sorted(Counter(class_names).items())),
            format_counts=dict(sorted(Counter(formats).items())),
            size=SizeSummary.of(sizes),
            feature_extractor=feature_extractor,
            feature_rows=np.asarray(features, np.float16),
            feature_groups=tuple(str(groups[row]) for row in rows),
            feature_classes=tuple(str(class_names[row]) for row in rows),
            feature_sizes=sizes[rows],
        )

    @property
    def images(self) -> int:
        return sum(self.class_counts.values())

    def to_json(self) -> str:
        """REFERENCE_FILE's text: the counts as JSON, the feature rows as base64 of little-endian float16."""
        return json.dumps({
            "schema_version": SCHEMA_VERSION,
            "class_counts": self.class_counts,
            "format_counts": self.format_counts,
            "size": dataclasses.asdict(self.size),
            "feature_extractor": self.feature_extractor,
            "feature_shape": list(self.feature_rows.shape),
            "feature_rows": base64.b64encode(self.feature_rows.astype("<f2").tobytes()).decode("ascii"),
            "feature_groups": list(self.feature_groups),
            "feature_classes": list(self.feature_classes),
            "feature_sizes": self.feature_sizes.tolist(),
        })

    @classmethod
    def from_json(cls, text: str, source: str = REFERENCE_FILE) -> "ReferenceStatistics":
        """The summary to_json wrote; source names the file in errors. Keys a later version adds are ignored."""
        try:
            values = json.loads(text)
            if values.get("schema_version", 0) > SCHEMA_VERSION:
                raise ValueError(f"schema_version {values['schema_version']} is newer than this release's "
                                 f"{SCHEMA_VERSION}; upgrade transfer-pipeline to read it")
            shape = tuple(values["feature_shape"])
            rows = np.frombuffer(base64.b64decode(values["feature_rows"]), "<f2").reshape(shape)
            return cls(
                class_counts={str(k): int(v) for k, v in values["class_counts"].items()},
                format_counts={str(k): int(v) for k, v in values["format_counts"].items()},
                size=SizeSummary(**values["size"]),
                feature_extractor=values["feature_extractor"],
                feature_rows=rows.astype(np.float16),
                feature_groups=tuple(values["feature_groups"]),
                feature_classes=tuple(values["feature_classes"]),
                feature_sizes=np.asarray(values["feature_sizes"], np.int32).reshape(-1, 2),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{source}: not a drift reference this release can read ({error}); "
                             "push a model trained by this release to write a new one") from None


def shares(counts: Dict[str, int], names: Sequence[str]) -> np.ndarray:
    total = sum(counts.values())
    return np.array([counts.get(name, 0) / total if total else 0.0 for name in names])


def linf_shift(reference: Dict[str, int], current: Dict[str, int]) -> Tuple[float, str]:
    """(the largest change of a share, over every name of either; the detail naming it)."""
    names = sorted(set(reference) | set(current))
    before, after = shares(reference, names), shares(current, names)
    largest = int(np.argmax(np.abs(after - before)))
    return float(abs(after[largest] - before[largest])), f"{names[largest]} {before[largest]:.2f} -> {after[largest]:.2f}"


def verdict(statistic: float, threshold: float) -> str:
    return DRIFT if statistic > threshold else OK


def class_checks(reference: ReferenceStatistics, current: ReferenceStatistics, thresholds: DriftSettings):
    distance, detail = linf_shift(reference.class_counts, current.class_counts)
    yield DriftCheck("class_prior", distance, thresholds.drift_class_prior_threshold,
                     verdict(distance, thresholds.drift_class_prior_threshold), detail=f"largest change: {detail}")
    missing = [name for name, count in reference.class_counts.items() if count and not current.class_counts.get(name)]
    yield DriftCheck("missing_classes", float(len(missing)), float(thresholds.drift_missing_classes_allowed),
                     verdict(len(missing), thresholds.drift_missing_classes_allowed),
                     detail="missing: " + (", ".join(missing) if missing else "none"))


def content_check(reference: ReferenceStatistics, current: ReferenceStatistics, thresholds: DriftSettings):
    threshold = thresholds.drift_content_threshold
    if min(len(reference.feature_rows), len(current.feature_rows)) < 2:
        return DriftCheck("content_mmd2", float("nan"), threshold, DRIFT,
                          detail="fewer than 2 images on one side: content cannot be compared, so it is not passed")
    mmd2, p_value, _ = mmd_test(reference.feature_rows, current.feature_rows, reference.feature_groups,
                                current.feature_groups, thresholds.drift_permutations, thresholds.drift_seed,
                                strata=reference.feature_classes + current.feature_classes)
    drifted = mmd2 > threshold and p_value <= thresholds.drift_content_p_value
    return DriftCheck("content_mmd2", mmd2, threshold, DRIFT if drifted else OK, p_value=p_value, detail=(
        f"{len(reference.feature_rows)} reference and {len(current.feature_rows)} new images' pooled features "
        f"({len(set(current.feature_groups))} new groups); drift needs MMD^2 above the threshold and "
        f"p <= {thresholds.drift_content_p_value}"))


def size_checks(reference: ReferenceStatistics, current: ReferenceStatistics, thresholds: DriftSettings):
    before, after = reference.size, current.size
    factors = {"width": (before.median_width, after.median_width), "height": (before.median_height, after.median_height)}
    worst = max(factors, key=lambda side: max(factors[side]) / max(min(factors[side]), 1.0))
    factor = max(factors[worst]) / max(min(factors[worst]), 1.0)
    yield DriftCheck("size_median_ratio", factor, thresholds.drift_size_ratio_threshold,
                     verdict(factor, thresholds.drift_size_ratio_threshold),
                     detail=f"median {worst} {factors[worst][0]:.0f} -> {factors[worst][1]:.0f} px")
    widths, heights = current.feature_sizes[:, 0], current.feature_sizes[:, 1]
    outside = ((widths < before.min_width) | (widths > before.max_width)
               | (heights < before.min_height) | (heights > before.max_height))
    share = float(outside.mean()) if outside.size else 0.0
    yield DriftCheck("size_outside_share", share, thresholds.drift_size_outside_threshold,
                     verdict(share, thresholds.drift_size_outside_threshold), detail=(
                         f"reference range {before.min_width}-{before.max_width} x {before.min_height}-"
                         f"{before.max_height} px; {int(outside.sum())} of {outside.size} sampled images outside"))


def compare(reference: ReferenceStatistics, current: ReferenceStatistics,
            thresholds: DriftSettings = DriftSettings()) -> List[DriftCheck]:
    """Every check of a new span (`current`) against the reference, in a fixed order: class_prior,
    missing_classes, content_mmd2, format_share, size_median_ratio, size_outside_share."""
    if reference.feature_extractor != current.feature_extractor:
        raise ValueError(f"the reference's features come from {reference.feature_extractor!r}, the span's from "
                         f"{current.feature_extractor!r}: they cannot be compared; summarise both with one base")
    checks = list(class_checks(reference, current, thresholds))
    checks.append(content_check(reference, current, thresholds))
    distance, detail = linf_shift(reference.format_counts, current.format_counts)
    checks.append(DriftCheck("format_share", distance, thresholds.drift_format_threshold,
                             verdict(distance, thresholds.drift_format_threshold), detail=f"largest change: {detail}"))
    checks.extend(size_checks(reference, current, thresholds))
    return checks


def drifted(checks: Sequence[DriftCheck]) -> List[DriftCheck]:
    """The checks whose verdict is drift."""
    return [check for check in checks if check.verdict == DRIFT]
