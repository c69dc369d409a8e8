"""The ingestion report: class names, counts per split and class, rejected files.

Written inside the Examples artifact (ingestion_report.json and
rejected_files.csv) so the run summary and serving can read it back.
"""
from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from typing import Iterable, List, Optional

from components import constants
from components.ingestion.data_licence import licence_note
from components.ingestion.folder_scan import FolderScan, Rejection


def build_report(scan: FolderScan, outcomes: Iterable[dict], golden: Optional[FolderScan] = None) -> dict:
    """outcomes: one dict per decoded candidate: file, class_name, span, split, accepted, note. golden: the
    golden folder's scan (its images' outcomes are those of split `golden`), None without one."""
    outcomes = list(outcomes)
    counts = defaultdict(lambda: defaultdict(int))
    rejected: List[Rejection] = list(scan.rejected)
    if golden:  # by their full path: theirs are relative to the golden dir
        rejected += [Rejection(os.path.join(golden.data_dir, r.path), r.reason) for r in golden.rejected]
    converted = []
    groups = defaultdict(set)
    ungrouped = defaultdict(int)
    by_kind = defaultdict(lambda: defaultdict(int))
    for outcome in sorted(outcomes, key=lambda o: o["file"]):
        if outcome["accepted"]:
            counts[outcome["split"]][outcome["class_name"]] += 1
            groups[outcome["split"]].add(outcome["group"])
            ungrouped[outcome["split"]] += int(not outcome.get("grouped", True))
            by_kind[outcome["split"]][outcome.get("source_kind") or "ungrouped"] += 1
            if outcome["note"]:
                converted.append({"file": outcome["file"], "note": outcome["note"]})
        else:
            rejected.append(Rejection(outcome["file"], outcome["note"]))
    per_split = {split: dict(sorted(by_class.items())) for split, by_class in sorted(counts.items())}
    by_span = {span: {name: 0 for name in scan.class_names} for span in scan.spans}
    for outcome in outcomes:
        if outcome["accepted"] and outcome.get("span") in by_span:
            by_span[outcome["span"]][outcome["class_name"]] += 1
    return {
        "data_dir": scan.data_dir,
        "class_names": scan.class_names,
        "counts": per_split,
        "total_examples": sum(sum(c.values()) for c in per_split.values()),
        "groups_per_split": {split: len(g) for split, g in sorted(groups.items())},
        "groups_in_both_splits": sorted(groups.get(constants.TRAIN_SPLIT, set()) & groups.get(constants.EVAL_SPLIT, set())),
        # Files whose names did not match the group pattern: each is a group of its own.
        "ungrouped_files_per_split": {split: ungrouped[split] for split in sorted(groups)},
        # Images per naming scheme of the group pattern ("group N": its capture group N) in each split.
        "images_per_source_kind": {split: dict(sorted(by_kind[split].items())) for split in sorted(groups)},
        "rejected": [r.as_row() for r in sorted(rejected, key=lambda r: r.path)],
        "converted": converted,
        "warnings": scan.warnings + (golden.warnings if golden else []),
        "licence": licence_note(scan.data_dir),
        # The window of spans read (oldest first), its newest, and the images read per span and class
        # (0 where a span lacks a class); None for a plain data dir.
        "spans": {"window": scan.spans, "newest": scan.spans[-1], "images": by_span} if scan.spans else None,
        # The golden folder (setting golden_dir); its images per class are the counts' split `golden`.
        "golden_dir": golden.data_dir if golden else None,
    }


def write_report(report: dict, directory: str) -> None:
    with open(os.path.join(directory, constants.INGESTION_REPORT_FILE), "w") as handle:
        json.dump(report, handle, indent=2)
    write_rejected_csv(report["rejected"], os.path.join(directory, constants.REJECTED_FILES_CSV))


def write_rejected_csv(rows: List[dict], path: str) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "reason"])
        writer.writeheader()
        writer.writerows(rows)


def read_report(examples_uri: str) -> dict:
    path = os.path.join(examples_uri, constants.INGESTION_REPORT_FILE)
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        return json.load(handle)
