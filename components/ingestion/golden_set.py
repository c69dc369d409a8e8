"""The golden set (setting golden_dir): a fixed labelled folder, never trained on, judged every run.

It is laid out as a plain data dir (one folder per class, no spans) and read with the same scan;
its classes must be classes of the training data (labels are the training data's ids), and no
image of it may also be in the training window, by content: a copy under another name would be
trained on. ImageFolderExampleGen writes it as the split `golden` (components/constants.py); the
Evaluator judges it on its own (components/promotion/golden_set.py).
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
from collections import defaultdict
from typing import Dict, List

from components.ingestion.folder_scan import DataError, FolderScan, files_fingerprint, find_spans, scan_image_folder

_SHOWN = 5  # files named in an error, at most


def _require_folder(golden_dir: str) -> None:
    if not os.path.isdir(golden_dir):
        raise DataError(f"golden dir {golden_dir} does not exist or is not a directory; pass --golden-dir with a "
                        "folder of class folders (the same class names as the data dir), or leave it out")


def scan_golden_folder(golden_dir: str, training: FolderScan, group_pattern: str,
                       groups_span_classes: bool = False) -> FolderScan:
    """The golden folder's images, labelled with the training data's class ids; raises DataError (naming
    the folder and the fix) when it is missing, holds spans, or a class the training data does not have."""
    _require_folder(golden_dir)
    top = sorted(e for e in os.listdir(golden_dir) if os.path.isdir(os.path.join(golden_dir, e)) and not e.startswith("."))
    if find_spans(golden_dir, top):
        raise DataError(f"golden dir {golden_dir}: holds span folders; a golden set is fixed, one folder per class "
                        f"({golden_dir}/<class>/*.jpg): move the class folders to its top")
    try:
        scan = scan_image_folder(golden_dir, group_pattern, min_classes=1, groups_span_classes=groups_span_classes)
    except DataError as err:
        raise DataError(f"golden dir: {err}") from None
    unknown = [name for name in scan.class_names if name not in training.class_names]
    if unknown:
        raise DataError(f"golden dir {golden_dir}: class folder(s) {', '.join(unknown)} are not classes of the training "
                        f"data ({', '.join(training.class_names)}); rename or remove them (a golden image's label must "
                        "be one the model can predict)")
    labels = {name: index for index, name in enumerate(training.class_names)}
    candidates = [dataclasses.replace(c, label=labels[c.class_name]) for c in scan.candidates]
    return dataclasses.replace(scan, class_names=list(training.class_names), candidates=candidates)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def trained_copies(golden: FolderScan, training: FolderScan) -> Dict[str, List[str]]:
    """{golden file: [training files with the same content]}, relative to their folders. Only training
    files of a golden file's size are read, so the cost is a stat per training image and few reads."""
    sizes = {os.path.getsize(candidate.path) for candidate in golden.candidates}
    golden_hashes = defaultdict(list)
    for candidate in golden.candidates:
        golden_hashes[_sha256(candidate.path)].append(candidate.relative_path)
    copies: Dict[str, List[str]] = defaultdict(list)
    for candidate in training.candidates:
        if os.path.getsize(candidate.path) in sizes:
            for golden_file in golden_hashes.get(_sha256(candidate.path), []):
                copies[golden_file].append(candidate.relative_path)
    return dict(sorted(copies.items()))


def require_never_trained_on(golden: FolderScan, training: FolderScan) -> None:
    """Raises DataError naming each golden image whose content is also an image of the training window."""
    copies = trained_copies(golden, training)
    if not copies:
        return
    shown = [f"{os.path.join(golden.data_dir, name)} (= {os.path.join(training.data_dir, found[0])})"
             for name, found in list(copies.items())[:_SHOWN]]
    more = f" and {len(copies) - _SHOWN} more" if len(copies) > _SHOWN else ""
    raise DataError(f"golden dir {golden.data_dir}: {len(copies)} image(s) are also in the training data, so they would "
                    f"be trained on: {'; '.join(shown)}{more}. Remove them from the golden dir or from the data dir")


def read_golden_set(golden_dir: str, training: FolderScan, group_pattern: str,
                    groups_span_classes: bool = False) -> FolderScan:
    """The golden folder scanned, labelled and checked against the training window (every check above)."""
    golden = scan_golden_folder(golden_dir, training, group_pattern, groups_span_classes)
    require_never_trained_on(golden, training)
    return golden


def golden_fingerprint(golden_dir: str, group_pattern: str) -> str:
    """Moves whenever a file of the golden folder is added, removed, renamed or written (as the data dir's)."""
    _require_folder(golden_dir)
    scan = scan_image_folder(golden_dir, group_pattern, min_classes=0)
    files = [c.relative_path for c in scan.candidates] + [r.path for r in scan.rejected]
    return f"golden:{len(scan.candidates)}+{len(scan.rejected)} files:sha256:{files_fingerprint(golden_dir, files)}"
