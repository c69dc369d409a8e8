"""Scans DATA_DIR/<class_name>/... into a list of candidate images.

Cheap checks only (names, sizes, folder structure): it runs before any heavy
work so that a data set unusable as a whole stops at once with a clear error.
Decoding happens later, per image, in the Beam pipeline (image_decoding.py).
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from typing import List, Optional, Tuple

from components.constants import IMAGE_EXTENSIONS


class DataError(ValueError):
    """The data set cannot be used as a whole; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Rejection:
    path: str  # relative to the data directory
    reason: str

    def as_row(self) -> dict:
        return {"file": self.path, "reason": self.reason}


@dataclasses.dataclass(frozen=True)
class ImageCandidate:
    path: str  # absolute
    relative_path: str
    class_name: str
    label: int
    group: str
    grouped: bool = True  # False: the name did not match the group pattern, so the file is a group of its own
    # Which naming scheme (the pattern's capture group) the name matched: "group 2"; "" when it matched none.
    source_kind: str = ""


@dataclasses.dataclass
class FolderScan:
    data_dir: str
    class_names: List[str]
    candidates: List[ImageCandidate]
    rejected: List[Rejection]
    warnings: List[str]

    def count_by_class(self) -> dict:
        counts = {name: 0 for name in self.class_names}
        for candidate in self.candidates:
            counts[candidate.class_name] += 1
        return counts


def _first_capture(file_stem: str, group_pattern: str) -> Optional[Tuple[int, str]]:
    """(N, text) of the pattern's first capture group N that took part in the match (so a pattern may
    hold alternatives, one per naming scheme), applied to the file name without its extension; None
    when the name does not match or no group took part."""
    match = re.match(group_pattern, file_stem)
    if not match:
        return None
    return next(((n, group) for n, group in enumerate(match.groups(), 1) if group is not None), None)


def subject_of(file_stem: str, group_pattern: str) -> Optional[str]:
    """The text of the first capture group that took part in the match (_first_capture); None when none did."""
    capture = _first_capture(file_stem, group_pattern)
    return capture[1] if capture else None


def source_kind_of(file_stem: str, group_pattern: str) -> str:
    """"group N" for that capture group N (one naming scheme of a pattern with alternatives: egohands
    frames, video clips, ...); "" when none took part."""
    capture = _first_capture(file_stem, group_pattern)
    return f"group {capture[0]}" if capture else ""


def group_of(class_name: str, file_stem: str, group_pattern: str, span_classes: bool = False) -> str:
    """The group a file belongs to: images of one group always share a split.

    The group is the file's subject (see subject_of); a name that does not match
    is a group of its own. Groups are per class unless span_classes is set, for
    sources that hold several classes (one video clip showing every gesture).
    """
    subject = subject_of(file_stem, group_pattern) or file_stem
    return subject if span_classes else f"{class_name}/{subject}"


def _reject_reason(name: str, size: int) -> Optional[str]:
    if name.startswith("."):
        return "hidden or system file, not an image; ignored (delete it to silence this)"
    ext = os.path.splitext(name)[1].lower()
    if ext not in IMAGE_EXTENSIONS:
        return (
            f"not an image file (extension {ext or 'none'!r}; accepted: {', '.join(IMAGE_EXTENSIONS)}); "
            "ignored (move it out of the data directory)"
        )
    if size == 0:
        return "zero-byte file, nothing to decode; re-copy the image or remove it"
    return None


# A data set's own documentation, which its licence may require to travel with the images.
_DATA_SET_DOCS = ("readme", "license", "licence", "attribution", "notice")
DATA_SET_DOCUMENTATION = "the data set's documentation (readme, licence, attribution or notice), not an image; left in place"


def _top_level_reason(name: str) -> str:
    if name.lower().startswith(_DATA_SET_DOCS):
        return DATA_SET_DOCUMENTATION
    return ("file at the top of the data directory, not inside a class folder; ignored (move it into a class "
            "folder, or out of the data directory)")


def _walk_files(folder: str):
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            yield os.path.join(root, name)


def scan_image_folder(
    data_dir: str, group_pattern: str, min_classes: int = 2, groups_span_classes: bool = False
) -> FolderScan:
    """Lists every class folder and file; raises DataError if the set is unusable."""
    if not data_dir:
        raise DataError("no data directory given; pass --data-dir DIR (one sub-folder per class)")
    if not os.path.isdir(data_dir):
        raise DataError(
            f"data directory {data_dir} does not exist or is not a directory; "
            "pass --data-dir DIR with one sub-folder of images per class"
        )
    rejected: List[Rejection] = []
    warnings: List[str] = []
    entries = sorted(os.listdir(data_dir))
    class_dirs = [e for e in entries if os.path.isdir(os.path.join(data_dir, e)) and not e.startswith(".")]
    for entry in entries:
        if not os.path.isdir(os.path.join(data_dir, entry)):
            rejected.append(Rejection(entry, _top_level_reason(entry)))

    files_by_class = {}
    for class_dir in class_dirs:
        accepted = []
        for path in _walk_files(os.path.join(data_dir, class_dir)):
            relative = os.path.relpath(path, data_dir)
            reason = _reject_reason(os.path.basename(path), os.path.getsize(path))
            if reason:
                rejected.append(Rejection(relative, reason))
            else:
                accepted.append((path, relative))
        if accepted:
            files_by_class[class_dir] = accepted
        else:
            warnings.append(
                f"{os.path.join(data_dir, class_dir)}: class folder holds no image files; "
                "it is not used as a class (add images or remove the folder)"
            )

    class_names = sorted(files_by_class)
    if len(class_names) < min_classes:
        found = ", ".join(class_names) or "none"
        raise DataError(
            f"{data_dir}: found {len(class_names)} class folder(s) with images ({found}); a classifier needs at "
            f"least {min_classes}. Put each class's images in its own sub-folder, e.g. {data_dir}/cats/*.jpg and "
            f"{data_dir}/dogs/*.jpg"
        )
    candidates = []
    for label, name in enumerate(class_names):
        for path, relative in files_by_class[name]:
            stem = os.path.splitext(os.path.basename(path))[0]
            group = group_of(name, stem, group_pattern, groups_span_classes)
            kind = source_kind_of(stem, group_pattern)
            candidates.append(ImageCandidate(path, relative, name, label, group, bool(kind), kind))
    return FolderScan(data_dir, class_names, candidates, rejected, warnings)


def files_fingerprint(root: str, relative_paths: List[str]) -> str:
    """sha256 over path, size, mtime and ctime of each file: it moves whenever one is added, removed,
    renamed or written. ctime because an edit in place that keeps the size and restores the mtime
    (touch -r, rsync -t) still moves it; and it costs a stat, not a read of every image."""
    digest = hashlib.sha256()
    for relative in sorted(relative_paths):
        stat = os.stat(os.path.join(root, relative))
        digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\0{stat.st_ctime_ns}\n".encode())
    return digest.hexdigest()


def folder_fingerprint(scan: FolderScan) -> str:
    """Changes whenever a file the scan looked at is added, removed, renamed or written."""
    files = [c.relative_path for c in scan.candidates] + [r.path for r in scan.rejected]
    return f"image-folder:{len(scan.candidates)}+{len(scan.rejected)} files:sha256:{files_fingerprint(scan.data_dir, files)}"
