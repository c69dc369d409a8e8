"""The images a rehearsal puts on its data volume: which data set, which subjects, copied so unchanged files stay unchanged."""
from __future__ import annotations

import os
import shutil
from typing import Callable, Dict, List, Optional, Tuple

from components.ingestion.data_source import resolve_data_dir
from components.ingestion.folder_scan import scan_image_folder


def find_data(data_dir: Optional[str], output: str, log: Callable[[str], None]) -> Tuple[str, str]:
    """(folder, how it was found): --data-dir, else $HORSE_OR_HUMAN_DIR, else what `run` takes without
    --data-dir (the cached horse-or-human set, a verified download, or, offline only, synthetic images)."""
    if data_dir:
        return data_dir, "given by --data-dir"
    if os.environ.get("HORSE_OR_HUMAN_DIR"):
        return os.environ["HORSE_OR_HUMAN_DIR"], "from $HORSE_OR_HUMAN_DIR"
    folder, source = resolve_data_dir(None, output, log)
    words = {"cache": "the cached horse-or-human set", "download": "horse-or-human, downloaded",
             "synthetic": "SYNTHETIC images (no download possible): results say nothing about real images"}
    return folder, words.get(source["source"], source["source"])


def chosen_images(data_dir: str, group_pattern: str, subjects: int, views: int, groups_span_classes: bool = False) -> List[str]:
    """Relative paths of the images to copy: per class, the first `subjects` groups (subjects, clips: the
    pipeline's own grouping, components/ingestion/folder_scan.py) and the first `views` images of each."""
    scan = scan_image_folder(data_dir, group_pattern, groups_span_classes=groups_span_classes)
    by_class: Dict[str, Dict[str, List[str]]] = {}
    for candidate in scan.candidates:
        by_class.setdefault(candidate.class_name, {}).setdefault(candidate.group, []).append(candidate.relative_path)
    chosen = []
    for class_name in sorted(by_class):
        groups = by_class[class_name]
        for group in sorted(groups)[: subjects or None]:
            chosen += sorted(groups[group])[: views or None]
    return chosen


def sync_volume(source: str, relative_paths: List[str], volume: str) -> int:
    """Makes `volume` hold exactly these files of `source`; files already there unchanged are left alone
    (a fresh copy would move their ctime, and with it the data fingerprint). Returns how many were copied."""
    wanted = set(relative_paths)
    copied = 0
    for root, _, names in os.walk(volume, topdown=False):
        for name in names:
            path = os.path.join(root, name)
            if os.path.relpath(path, volume) not in wanted:
                os.remove(path)
        if root != volume and not os.listdir(root):
            os.rmdir(root)  # a class folder emptied here is no class any more
    for relative in relative_paths:
        src, dst = os.path.join(source, relative), os.path.join(volume, relative)
        if os.path.isfile(dst) and os.stat(dst).st_size == os.stat(src).st_size and int(os.stat(dst).st_mtime) == int(os.stat(src).st_mtime):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
        copied += 1
    return copied
