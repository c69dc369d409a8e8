"""The serving directory as TF Serving sees it: SERVING_DIR/<integer version>/saved_model.pb.

TF Serving serves the highest-numbered folder, whoever put it there. Each
version this pipeline pushes carries push_record.json (fingerprint, class
names in label order, eval accuracy, data set, time, how it got there); a
numbered folder without one was not pushed by the pipeline (copied by hand,
or half-copied) and is listed as unmanaged, never silently skipped.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from typing import List, Optional, Set

PUSH_RECORD = "push_record.json"
STAGING_PREFIX = ".staging-"
# The push record's key for the spans of data the model was trained on (oldest first; None: a plain data dir).
SPANS = "spans"
# What a push record says about the model itself (a rollback copies these from the version it restores).
MODEL_FACTS = (
    "fingerprint", "class_names", "eval_accuracy", "eval_metric", "data_dir", "schema",
    "pipeline_name", "model_artifact_uri", "model_artifact_id", SPANS,
)


class ServingDirError(ValueError):
    """The serving dir cannot be used as asked; the message names the folder and the fix."""


@dataclasses.dataclass(frozen=True)
class ServingFolder:
    """One integer-named folder of the serving dir; record is None when the pipeline did not push it."""

    version: int
    path: str
    record: Optional[dict]

    @property
    def managed(self) -> bool:
        return self.record is not None

    @property
    def class_names(self) -> Optional[List[str]]:
        return (self.record or {}).get("class_names")

    @property
    def fingerprint(self) -> Optional[str]:
        return (self.record or {}).get("fingerprint")


def model_fingerprint(saved_model_dir: str) -> str:
    """sha256 over every file of a SavedModel (names and bytes) but a push record: same model, same fingerprint."""
    import tensorflow as tf  # here, not at import: the serving CLI and the config stay light

    if not tf.io.gfile.isdir(saved_model_dir):
        raise FileNotFoundError(f"{saved_model_dir}: no SavedModel there to fingerprint")
    digest = hashlib.sha256()
    for root, dirs, files in tf.io.gfile.walk(saved_model_dir):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            if name == PUSH_RECORD and root.rstrip("/") == saved_model_dir.rstrip("/"):
                continue
            digest.update(os.path.relpath(path, saved_model_dir).encode())
            with tf.io.gfile.GFile(path, "rb") as handle:
                while chunk := handle.read(1 << 22):
                    digest.update(chunk)
    return digest.hexdigest()


def _read_record(path: str) -> Optional[dict]:
    try:
        with open(os.path.join(path, PUSH_RECORD)) as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as err:
        raise ServingDirError(
            f"{os.path.join(path, PUSH_RECORD)} cannot be read ({err}); repair it, or move the version "
            "out of the serving dir"
        ) from None


def scan(serving_dir: str) -> List[ServingFolder]:
    """Every integer-named folder, oldest first; staging folders and other names are not versions."""
    if not serving_dir or not os.path.isdir(serving_dir):
        return []
    folders = []
    for name in os.listdir(serving_dir):
        path = os.path.join(serving_dir, name)
        if not name.isdigit():
            continue
        record = _read_record(path)
        if record is not None or os.path.isdir(path):  # else pruned away (renamed) since the listing
            folders.append(ServingFolder(int(name), path, record))
    return sorted(folders, key=lambda folder: folder.version)


def served_folder(folders: List[ServingFolder]) -> Optional[ServingFolder]:
    """What TF Serving serves: the highest number, pushed by the pipeline or not."""
    return folders[-1] if folders else None


def list_versions(serving_dir: str) -> List[int]:
    """Versions the pipeline pushed (with a push record), oldest first."""
    return [folder.version for folder in scan(serving_dir) if folder.managed]


def latest_version(serving_dir: str) -> Optional[int]:
    versions = list_versions(serving_dir)
    return versions[-1] if versions else None


def serving_state(serving_dir: str) -> str:
    """A cheap token that changes whenever any numbered folder appears, goes or changes hands (keys the baseline cache)."""
    folders = scan(serving_dir)
    if not folders:
        return ""
    listing = ",".join(f"{folder.version}:{(folder.fingerprint or 'unmanaged')[:16]}" for folder in folders)
    return hashlib.sha256(listing.encode()).hexdigest()[:32]


def copy_tree(source: str, destination: str) -> None:
    if "://" not in source and "://" not in destination:
        shutil.copytree(source, destination)
        return
    import tensorflow as tf

    for root, _, files in tf.io.gfile.walk(source):
        target_root = os.path.join(destination, os.path.relpath(root, source))
        tf.io.gfile.makedirs(target_root)
        for name in files:
            tf.io.gfile.copy(os.path.join(root, name), os.path.join(target_root, name), overwrite=True)


def withdrawn_versions(folders: List[ServingFolder]) -> Set[int]:
    """Versions a later rollback rolled back over."""
    return {version for folder in folders for version in (folder.record or {}).get("withdraws", [])}
