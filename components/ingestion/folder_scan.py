"""Scans DATA_DIR/<class_name>/... (or DATA_DIR/<span>/<class_name>/...) into a list of candidate images.

Data that arrives over time comes in spans: when every top-level folder is named
`span-<N>` or `YYYY-MM-DD`, each is a span holding class folders, and a run reads
a window of them (the newest `window_spans`, up to `span`). Cheap checks only (names, sizes, folder structure): it runs before any heavy
work so that a data set unusable as a whole stops at once with a clear error.
Decoding happens later, per image, in the Beam pipeline (image_decoding.py).
"""
from __future__ import annotations

import dataclasses
import datetime
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
    # The span folder the file is in; "" in a plain data dir (no span folders).
    span: str = ""


@dataclasses.dataclass
class FolderScan:
    data_dir: str
    class_names: List[str]
    candidates: List[ImageCandidate]
    rejected: List[Rejection]
    warnings: List[str]
    spans: List[str] = dataclasses.field(default_factory=list)
    """The window the scan read, oldest first; [] for a plain data dir (no span folders)."""
    spans_present: List[str] = dataclasses.field(default_factory=list)
    """Every span folder of the data dir, oldest first."""

    def count_by_class(self) -> dict:
        counts = {name: 0 for name in self.class_names}
        for candidate in self.candidates:
            counts[candidate.class_name] += 1
        return counts

    def count_by_span(self) -> dict:
        """{span: {class: images}} over the window, every class in every span (0 where a span lacks it);
        {} for a plain data dir."""
        counts = {span: {name: 0 for name in self.class_names} for span in self.spans}
        for candidate in self.candidates:
            if candidate.span in counts:
                counts[candidate.span][candidate.class_name] += 1
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


def _top_level_reason(name: str, where: str = "the data directory") -> str:
    if name.lower().startswith(_DATA_SET_DOCS):
        return DATA_SET_DOCUMENTATION
    return (f"file at the top of {where}, not inside a class folder; ignored (move it into a class "
            f"folder, or out of {where})")


def _walk_files(folder: str):
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            yield os.path.join(root, name)


# Span folders: span-<N> (N a positive integer, no leading zero) or a real date YYYY-MM-DD; one scheme per data dir.
_NUMBERED_SPAN = re.compile(r"span-([1-9][0-9]*)")
_DATED_SPAN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
SPAN_NAMING = "span-<N> (span-1, span-2, ...) or a date YYYY-MM-DD"


def _is_real_date(name: str) -> bool:
    try:
        datetime.date.fromisoformat(name)
    except ValueError:
        return False
    return True


def span_scheme(name: str) -> str:
    """"numbered" (span-<N>), "dated" (YYYY-MM-DD, a real date) or "" for any other folder name."""
    if _NUMBERED_SPAN.fullmatch(name):
        return "numbered"
    if _DATED_SPAN.fullmatch(name) and _is_real_date(name):
        return "dated"
    return ""


def span_order(name: str):
    """Sort key of a span: numbered spans by their integer (span-10 after span-9), dates by date."""
    numbered = _NUMBERED_SPAN.fullmatch(name)
    return (int(numbered.group(1)), "") if numbered else (0, name)


def _listed(names: List[str], most: int = 5) -> str:
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def find_spans(data_dir: str, folders: List[str]) -> List[str]:
    """The span folders among a data dir's top-level folders, oldest first; [] when none is a span (a
    plain folder of class folders). Raises DataError for a mix of span and class folders, of the two
    naming schemes, or for a date-shaped name that is no real date."""
    not_dates = [name for name in folders if _DATED_SPAN.fullmatch(name) and not _is_real_date(name)]
    if not_dates:
        raise DataError(f"{data_dir}: folder(s) {_listed(not_dates)} are named like dated spans but are not real "
                        "dates; rename each to a real date YYYY-MM-DD (or to span-<N>)")
    schemes = {name: span_scheme(name) for name in folders}
    spans = [name for name in folders if schemes[name]]
    if not spans:
        return []
    others = [name for name in folders if not schemes[name]]
    if others:
        raise DataError(
            f"{data_dir}: top-level folders mix spans ({_listed(spans)}) and other folders ({_listed(others)}); "
            f"in a data dir of spans every top-level folder is a span named {SPAN_NAMING}, holding the class "
            f"folders. Move each class folder into a span (e.g. {os.path.join(data_dir, spans[-1], others[0])}) "
            "or rename it as a span"
        )
    numbered = [name for name in spans if schemes[name] == "numbered"]
    dated = [name for name in spans if schemes[name] == "dated"]
    if numbered and dated:
        raise DataError(
            f"{data_dir}: span folders use both naming schemes, span-<N> ({_listed(numbered)}) and dates "
            f"({_listed(dated)}); their order would be undefined. Rename them to one scheme, {SPAN_NAMING}"
        )
    return sorted(spans, key=span_order)


def select_window(data_dir: str, spans_present: List[str], window_spans: int = 0, span: str = "") -> List[str]:
    """The spans a run reads, oldest first: the newest `window_spans` (0: all) up to and including `span`
    ("" = the newest present). [] for a plain data dir. Raises DataError for a span that is not there."""
    if not spans_present:
        if span:
            raise DataError(f"{data_dir}: span {span!r} asked for, but the data dir has no span folders (its top-level "
                            f"folders are classes); drop --span, or put the class folders into spans named {SPAN_NAMING}")
        return []
    if span and span not in spans_present:
        raise DataError(f"{data_dir}: no span {span!r}; the spans present, oldest first, are {', '.join(spans_present)}. "
                        "Pass --span with one of them, or leave it empty for the newest")
    end = spans_present.index(span) + 1 if span else len(spans_present)
    return spans_present[max(0, end - window_spans) if window_spans else 0:end]


def scan_image_folder(
    data_dir: str, group_pattern: str, min_classes: int = 2, groups_span_classes: bool = False,
    window_spans: int = 0, span: str = "",
) -> FolderScan:
    """Lists every class folder and file (of the window's spans, in a data dir of spans); raises DataError
    if the set is unusable.

    Class names are the union over the window's spans. A subject's group does not depend on its span, so
    the split keeps a subject seen in two spans on one side in both."""
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
    top_dirs = [e for e in entries if os.path.isdir(os.path.join(data_dir, e)) and not e.startswith(".")]
    for entry in entries:
        if not os.path.isdir(os.path.join(data_dir, entry)):
            rejected.append(Rejection(entry, _top_level_reason(entry)))
    spans_present = find_spans(data_dir, top_dirs)
    window = select_window(data_dir, spans_present, window_spans, span)

    # (span, class folder relative to the data dir) for every class folder read.
    class_folders: List[Tuple[str, str]] = []
    if spans_present:
        for span_name in window:
            span_dir = os.path.join(data_dir, span_name)
            for entry in sorted(os.listdir(span_dir)):
                if entry.startswith("."):
                    continue
                if os.path.isdir(os.path.join(span_dir, entry)):
                    class_folders.append((span_name, os.path.join(span_name, entry)))
                else:
                    rejected.append(Rejection(os.path.join(span_name, entry), _top_level_reason(entry, f"span {span_name}")))
    else:
        class_folders = [("", class_dir) for class_dir in top_dirs]

    files_by_class = {}
    for span_name, class_folder in class_folders:
        class_dir = os.path.basename(class_folder)
        accepted = []
        for path in _walk_files(os.path.join(data_dir, class_folder)):
            relative = os.path.relpath(path, data_dir)
            reason = _reject_reason(os.path.basename(path), os.path.getsize(path))
            if reason:
                rejected.append(Rejection(relative, reason))
            else:
                accepted.append((path, relative, span_name))
        if accepted:
            files_by_class.setdefault(class_dir, []).extend(accepted)
        elif span_name:
            warnings.append(f"{os.path.join(data_dir, class_folder)}: class folder holds no image files; span "
                            f"{span_name} adds no {class_dir} images (add images or remove the folder)")
        else:
            warnings.append(
                f"{os.path.join(data_dir, class_folder)}: class folder holds no image files; "
                "it is not used as a class (add images or remove the folder)"
            )

    class_names = sorted(files_by_class)
    if len(class_names) < min_classes:
        found = ", ".join(class_names) or "none"
        where = f" in span(s) {', '.join(window) or 'none'}" if spans_present else ""
        raise DataError(
            f"{data_dir}: found {len(class_names)} class folder(s) with images{where} ({found}); a classifier needs at "
            f"least {min_classes}. Put each class's images in its own sub-folder, e.g. {data_dir}/cats/*.jpg and "
            f"{data_dir}/dogs/*.jpg" + (f" (in a data dir of spans: {data_dir}/{window[-1]}/cats/*.jpg)" if window else "")
        )
    candidates = []
    for label, name in enumerate(class_names):
        for path, relative, span_name in files_by_class[name]:
            stem = os.path.splitext(os.path.basename(path))[0]
            group = group_of(name, stem, group_pattern, groups_span_classes)
            kind = source_kind_of(stem, group_pattern)
            candidates.append(ImageCandidate(path, relative, name, label, group, bool(kind), kind, span_name))
    return FolderScan(data_dir, class_names, candidates, rejected, warnings, window, spans_present)


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
    """Changes whenever a file the scan looked at is added, removed, renamed or written, and when the window
    of spans changes; a file in a span outside the window is not looked at, so it changes nothing."""
    files = [c.relative_path for c in scan.candidates] + [r.path for r in scan.rejected]
    window = f"spans {','.join(scan.spans)}:" if scan.spans else ""
    return f"image-folder:{window}{len(scan.candidates)}+{len(scan.rejected)} files:sha256:{files_fingerprint(scan.data_dir, files)}"
