"""The serving directory as TF Serving sees it: SERVING_DIR/<integer version>/saved_model.pb.

Each pushed version carries push_record.json (model fingerprint, source
artifact, time); a version only appears under its final name once complete.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from typing import List, Optional

import tensorflow as tf

PUSH_RECORD = "push_record.json"
_STAGING_PREFIX = ".staging-"


def model_fingerprint(saved_model_dir: str) -> str:
    """sha256 over every file of a SavedModel (names and bytes): same model, same fingerprint."""
    digest = hashlib.sha256()
    for root, dirs, files in tf.io.gfile.walk(saved_model_dir):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            digest.update(os.path.relpath(path, saved_model_dir).encode())
            with tf.io.gfile.GFile(path, "rb") as handle:
                while chunk := handle.read(1 << 22):
                    digest.update(chunk)
    return digest.hexdigest()


def list_versions(serving_dir: str) -> List[int]:
    """Complete versions, oldest first (staging folders and stray files are ignored)."""
    if not serving_dir or not tf.io.gfile.isdir(serving_dir):
        return []
    versions = []
    for name in tf.io.gfile.listdir(serving_dir):
        name = name.rstrip("/")
        if name.isdigit() and tf.io.gfile.exists(os.path.join(serving_dir, name, PUSH_RECORD)):
            versions.append(int(name))
    return sorted(versions)


def read_push_record(serving_dir: str, version: int) -> dict:
    with tf.io.gfile.GFile(os.path.join(serving_dir, str(version), PUSH_RECORD)) as handle:
        return json.load(handle)


def latest_version(serving_dir: str) -> Optional[int]:
    versions = list_versions(serving_dir)
    return versions[-1] if versions else None


def serving_state(serving_dir: str) -> str:
    """A cheap token that changes whenever a new version is pushed (keys the baseline cache)."""
    version = latest_version(serving_dir)
    return "" if version is None else f"{version}:{read_push_record(serving_dir, version)['fingerprint'][:16]}"


def push_version(model_dir: str, serving_dir: str, fingerprint: str, source: dict) -> str:
    """Copies the model in under a staging name, then renames it: never half-written."""
    tf.io.gfile.makedirs(serving_dir)
    version = max(int(time.time()), (latest_version(serving_dir) or 0) + 1)
    staging = os.path.join(serving_dir, f"{_STAGING_PREFIX}{version}")
    final = os.path.join(serving_dir, str(version))
    if tf.io.gfile.exists(staging):
        tf.io.gfile.rmtree(staging)
    copy_tree(model_dir, staging)
    record = dict(source, fingerprint=fingerprint, version=version, pushed_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    with tf.io.gfile.GFile(os.path.join(staging, PUSH_RECORD), "w") as handle:
        json.dump(record, handle, indent=2)
    tf.io.gfile.rename(staging, final)
    return final


def prune_versions(serving_dir: str, keep: int) -> List[int]:
    """Deletes all but the newest `keep` versions; returns the deleted ones."""
    versions = list_versions(serving_dir)
    doomed = versions[:-keep] if keep > 0 else []
    for version in doomed:
        tf.io.gfile.rmtree(os.path.join(serving_dir, str(version)))
    return doomed


def copy_tree(source: str, destination: str) -> None:
    if "://" not in source and "://" not in destination:
        shutil.copytree(source, destination)
        return
    for root, _, files in tf.io.gfile.walk(source):
        target_root = os.path.join(destination, os.path.relpath(root, source))
        tf.io.gfile.makedirs(target_root)
        for name in files:
            tf.io.gfile.copy(os.path.join(root, name), os.path.join(target_root, name), overwrite=True)
