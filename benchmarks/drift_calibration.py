"""The drift gate's thresholds, measured: false alarms on same-distribution spans, detection of real shifts.

    python benchmarks/drift_calibration.py --horse-or-human DIR --rock-paper-scissors DIR \
        [--cache /tmp/drift_features.npz] [--splits 20] [--json results.json]

Pooled features of the frozen base (components/drift/features.py, the trainer's default settings) are
computed once for every image of horse-or-human, for four variants of each (grayscale, turned 90 degrees,
re-encoded as JPEG, resized to 200x200) and for rock-paper-scissors, and cached in --cache (not committed;
about 16 MB, 11 minutes on 2 CPU cores). Then, for each of --splits random splits (seeded by the split's
number), components/drift/statistics.py's compare runs on these spans:

- horse-or-human: 60% of each class's subjects are the reference, the other 40% the new span, as they
  are (same distribution: every check must pass); in grayscale; turned 90 degrees; only the horses (a
  class missing); re-encoded as JPEG (a format change); resized (a size change);
- rock-paper-scissors filed under horse-or-human's class names (rock as horses, paper as humans), 40% of
  its groups, against the same reference;
- rock-paper-scissors against itself, 60% of its groups (clips, sessions) the reference and 40% the span:
  a second same-distribution case, with varied sizes and sources.

It prints every check's statistic per scenario (worst, median and best over the splits, the content
check's group-wise p-value beside its effect size), the detection rate of each scenario with the
default thresholds, the time of one compare call and of one span's summary (its features), and the date
and commit measured. Results:
docs/quality.md, "The drift gate's thresholds".
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pipeline.process.startup import start  # noqa: E402

start()  # the project's process settings, before TensorFlow is imported

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from components.drift.image_facts import image_format, image_size  # noqa: E402
from components.ingestion.folder_scan import scan_image_folder  # noqa: E402
from pipeline.config import DEFAULT_GROUP_PATTERN, build_config  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RPS_CONFIG = os.path.join(REPO, "configs", "rock-paper-scissors.yaml")
# Rock-paper-scissors classes filed under horse-or-human's names in the "another data set" scenario.
RPS_AS_HORSE_OR_HUMAN = {"rock": "horses", "paper": "humans"}
RESIZED_SIDE = 200  # horse-or-human's images are all 300x300


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()


# The horse-or-human variants: each a new span's images as a camera, a scanner or an export would change them.
VARIANTS = {
    "original": None,
    "grayscale": lambda image: _png(image.convert("L")),
    "rotated": lambda image: _png(image.rotate(90, expand=True)),
    "jpeg": _jpeg,
    "resized": lambda image: _png(image.resize((RESIZED_SIDE, RESIZED_SIDE), Image.LANCZOS)),
}


def scanned(data_dir: str, group_pattern: str, groups_span_classes: bool = False):
    scan = scan_image_folder(data_dir, group_pattern, groups_span_classes=groups_span_classes)
    return sorted(scan.candidates, key=lambda c: c.relative_path)


def facts_of(images) -> dict:
    sizes = np.array([image_size(encoded) for encoded in images], np.int32).reshape(-1, 2)
    return {"format": np.array([image_format(encoded) for encoded in images]), "size": sizes}


def extract(horse_or_human: str, rock_paper_scissors: str) -> dict:
    """Every array the calibration reads: per data set and variant its features, formats, sizes, and the
    images' classes and groups."""
    from components.drift.features import PooledFeatureExtractor
    from components.model.settings import TrainerSettings

    extractor = PooledFeatureExtractor(TrainerSettings())
    arrays = {}
    hoh = scanned(horse_or_human, DEFAULT_GROUP_PATTERN)
    arrays["hoh/class"] = np.array([c.class_name for c in hoh])
    arrays["hoh/group"] = np.array([c.group for c in hoh])
    originals = [open(c.path, "rb").read() for c in hoh]
    for name, change in VARIANTS.items():
        images = originals if change is None else [change(Image.open(io.BytesIO(b))) for b in originals]
        arrays[f"hoh/{name}/features"] = extractor(images, label=f"horse-or-human, {name}")
        for key, value in facts_of(images).items():
            arrays[f"hoh/{name}/{key}"] = value
    config = build_config(RPS_CONFIG, data_dir=rock_paper_scissors)
    rps = scanned(rock_paper_scissors, config.group_pattern, config.groups_span_classes)
    rps_images = [open(c.path, "rb").read() for c in rps]
    arrays["rps/class"] = np.array([c.class_name for c in rps])
    arrays["rps/group"] = np.array([c.group for c in rps])
    arrays["rps/original/features"] = extractor(rps_images, label="rock-paper-scissors")
    for key, value in facts_of(rps_images).items():
        arrays[f"rps/original/{key}"] = value
    return arrays


def load_or_extract(cache: str, horse_or_human: str, rock_paper_scissors: str) -> dict:
    if os.path.isfile(cache):
        with np.load(cache) as stored:
            print(f"features read from {cache}", flush=True)
            return {key: stored[key] for key in stored.files}
    started = time.monotonic()
    arrays = extract(horse_or_human, rock_paper_scissors)
    os.makedirs(os.path.dirname(os.path.abspath(cache)), exist_ok=True)
    np.savez_compressed(cache, **arrays)
    print(f"features computed in {time.monotonic() - started:.0f} s, cached in {cache}", flush=True)
    return arrays


def commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


SPAN_SHARE = 0.4  # of each class's subjects (rock-paper-scissors: of its groups) in the new span
CHECKS = ("class_prior", "missing_classes", "content_mmd2", "format_share", "size_median_ratio", "size_outside_share")
SAME_DISTRIBUTION = ("hoh same distribution", "rps same distribution")


def summary_of(arrays: dict, data: str, variant: str, rows: np.ndarray, settings, seed: int, classes=None):
    """ReferenceStatistics of the images `rows` of one data set's variant, as components/drift/features.py's
    span_statistics would summarise them (the features read from the cache)."""
    from components.drift.features import feature_description
    from components.drift.statistics import ReferenceStatistics, sampled_rows
    from components.model.settings import TrainerSettings

    kept = sampled_rows(len(rows), settings.drift_feature_rows, seed)
    names = arrays[f"{data}/class"][rows] if classes is None else classes
    return ReferenceStatistics.of_span(
        [str(n) for n in names], arrays[f"{data}/{variant}/format"][rows], arrays[f"{data}/{variant}/size"][rows],
        arrays[f"{data}/group"][rows], kept, arrays[f"{data}/{variant}/features"][rows][kept],
        feature_description(TrainerSettings()))


def split_groups(classes: np.ndarray, groups: np.ndarray, rng, by_class: bool) -> np.ndarray:
    """True for the images of the new span: SPAN_SHARE of each class's groups (of all groups when groups
    span classes), drawn by rng."""
    new = np.zeros(len(groups), bool)
    for kind in (np.unique(classes) if by_class else [None]):
        members = np.ones(len(groups), bool) if kind is None else classes == kind
        names = np.unique(groups[members])
        chosen = rng.choice(names, size=int(round(SPAN_SHARE * len(names))), replace=False)
        new |= members & np.isin(groups, chosen)
    return new


def scenarios(arrays: dict, settings, split: int):
    """(name, reference, new span) of one split: the same-distribution spans and every shift."""
    rng = np.random.default_rng(split)
    hoh_new = split_groups(arrays["hoh/class"], arrays["hoh/group"], rng, by_class=True)
    reference_rows, new_rows = np.flatnonzero(~hoh_new), np.flatnonzero(hoh_new)
    reference = summary_of(arrays, "hoh", "original", reference_rows, settings, split)
    span = lambda variant, rows=new_rows: summary_of(arrays, "hoh", variant, rows, settings, split)  # noqa: E731
    yield "hoh same distribution", reference, span("original")
    rps_classes = arrays["rps/class"]
    rps_span = split_groups(rps_classes, arrays["rps/group"], rng, by_class=False)
    filed = np.flatnonzero(rps_span & np.isin(rps_classes, list(RPS_AS_HORSE_OR_HUMAN)))
    yield "rps as horses/humans", reference, summary_of(
        arrays, "rps", "original", filed, settings, split, classes=[RPS_AS_HORSE_OR_HUMAN[c] for c in rps_classes[filed]])
    for variant in ("grayscale", "rotated", "jpeg", "resized"):
        yield variant, reference, span(variant)
    yield "class missing (horses only)", reference, span("original", new_rows[arrays["hoh/class"][new_rows] == "horses"])
    yield "rps same distribution", summary_of(arrays, "rps", "original", np.flatnonzero(~rps_span), settings, split), \
        summary_of(arrays, "rps", "original", np.flatnonzero(rps_span), settings, split)


def measure(arrays: dict, splits: int):
    from components.drift.settings import DriftSettings
    from components.drift.statistics import compare

    settings = DriftSettings()
    results, seconds = {}, []
    for split in range(splits):
        for name, reference, span in scenarios(arrays, settings, split):
            started = time.perf_counter()
            checks = compare(reference, span, settings)
            seconds.append(time.perf_counter() - started)
            results.setdefault(name, []).append({check.name: check for check in checks})
        print(f"split {split + 1}/{splits} compared", flush=True)
    return settings, results, seconds


def report(settings, results: dict, seconds: list, splits: int) -> dict:
    print(f"\nDrift gate calibration, {time.strftime('%Y-%m-%d')}, commit {commit()}, {splits} subject-wise splits "
          f"({SPAN_SHARE:.0%} of each class's subjects in the new span)")
    print("Each cell: worst / median / best statistic over the splits (content: MMD^2 [median p-value]).\n")
    print(f"{'scenario':28s} {'flagged':>8s}  " + "  ".join(f"{c:>24s}" for c in CHECKS))
    table = {}
    for name, runs in results.items():
        flagged = sum(any(check.verdict == "drift" for check in run.values()) for run in runs)
        cells = []
        for check_name in CHECKS:
            values = np.array([run[check_name].statistic for run in runs])
            cell = f"{values.max():.3f}/{np.median(values):.3f}/{values.min():.3f}"
            if check_name == "content_mmd2":
                cell += f" [{np.median([run[check_name].p_value for run in runs]):.3f}]"
            cells.append(cell)
        print(f"{name:28s} {flagged:>3d}/{len(runs):<4d}  " + "  ".join(f"{c:>24s}" for c in cells))
        caught = {c: sum(run[c].verdict == "drift" for run in runs) for c in CHECKS}
        print(f"{'':28s} caught by: " + (", ".join(f"{c} {n}/{len(runs)}" for c, n in caught.items() if n) or "none"))
        table[name] = {
            "flagged": flagged, "splits": len(runs),
            "checks": {c: {"statistics": [run[c].statistic for run in runs], "p_values": [run[c].p_value for run in runs],
                           "drift": sum(run[c].verdict == "drift" for run in runs)} for c in CHECKS},
        }
    print("\nThresholds (DriftSettings defaults) against the measurement:")
    for check_name, field in (("class_prior", "drift_class_prior_threshold"),
                              ("missing_classes", "drift_missing_classes_allowed"),
                              ("content_mmd2", "drift_content_threshold"), ("format_share", "drift_format_threshold"),
                              ("size_median_ratio", "drift_size_ratio_threshold"),
                              ("size_outside_share", "drift_size_outside_threshold")):
        same = max(max(table[s]["checks"][check_name]["statistics"]) for s in SAME_DISTRIBUTION)
        caught = {s: min(table[s]["checks"][check_name]["statistics"]) for s in table
                  if s not in SAME_DISTRIBUTION and table[s]["checks"][check_name]["drift"] == table[s]["splits"]}
        weakest = min(caught.items(), key=lambda item: item[1]) if caught else ("nothing", float("nan"))
        print(f"  {check_name:20s} threshold {getattr(settings, field):<6g} worst same-distribution {same:.3f}; "
              f"weakest shift it always catches: {weakest[0]} ({weakest[1]:.3f})")
    print(f"\ncompare: {np.mean(seconds) * 1000:.0f} ms a call (median {np.median(seconds) * 1000:.0f} ms, "
          f"max {np.max(seconds) * 1000:.0f} ms; {settings.drift_feature_rows} feature rows a side, "
          f"{settings.drift_permutations} permutations)")
    return {"date": time.strftime("%Y-%m-%d"), "commit": commit(), "splits": splits,
            "settings": settings.to_dict(), "scenarios": table, "compare_seconds": seconds}


def time_span_summary(horse_or_human: str, settings) -> dict:
    """Seconds to summarise a span of horse-or-human's size as the gate will (features.py: span_statistics):
    building the base, then the features of drift_feature_rows images and every image's format and size."""
    from components.drift.features import PooledFeatureExtractor, span_statistics
    from components.model.settings import TrainerSettings

    candidates = scanned(horse_or_human, DEFAULT_GROUP_PATTERN)
    images = [open(c.path, "rb").read() for c in candidates]
    started = time.perf_counter()
    extractor = PooledFeatureExtractor(TrainerSettings())
    built = time.perf_counter()
    span_statistics(images, [c.class_name for c in candidates], [c.group for c in candidates], extractor,
                    settings.drift_feature_rows, settings.drift_seed)
    done = time.perf_counter()
    print(f"a span summary of {len(images)} images ({settings.drift_feature_rows} through the base): "
          f"{done - built:.1f} s, and {built - started:.1f} s to build the base once", flush=True)
    return {"images": len(images), "summary_seconds": done - built, "build_seconds": built - started}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--horse-or-human", default=os.environ.get("HORSE_OR_HUMAN_DIR"), required=False)
    parser.add_argument("--rock-paper-scissors", default=os.environ.get("RPS_DIR"), required=False)
    parser.add_argument("--cache", default="/tmp/drift_features.npz")
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--json", default=None)
    parser.add_argument("--features-only", action="store_true", help="compute and cache the features, then stop")
    args = parser.parse_args(argv)
    if not (args.horse_or_human and args.rock_paper_scissors):
        parser.error("give --horse-or-human and --rock-paper-scissors (or HORSE_OR_HUMAN_DIR and RPS_DIR)")
    arrays = load_or_extract(args.cache, args.horse_or_human, args.rock_paper_scissors)
    if args.features_only:
        return
    settings, results, seconds = measure(arrays, args.splits)
    measured = report(settings, results, seconds, args.splits)
    measured["span_summary"] = time_span_summary(args.horse_or_human, settings)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(measured, out, indent=1)


if __name__ == "__main__":
    main()
