"""Putting a model into the serving dir: copied under a staging name, numbered and renamed under the lock.

The copy (the slow part) happens outside the lock, into a staging folder
whose name says who made it and when; only numbering, renaming, pruning and
cleaning need the lock (serving_lock.py). Staging folders are never versions
to TF Serving (not integer names) and are removed only by their owner, or
once orphaned: their process is gone (same host) or older than
STALE_STAGING_S (another host, e.g. a Kubeflow pod that died mid-copy).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import time
from typing import Iterable, List, Optional, Tuple

from components.serving.versions import PUSH_RECORD, STAGING_PREFIX, ServingFolder, copy_tree, scan

STALE_STAGING_S = 3600


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _staging_path(serving_dir: str) -> str:
    name = f"{STAGING_PREFIX}{int(time.time())}-{os.getpid()}-{secrets.token_hex(4)}-{socket.gethostname()}"
    return os.path.join(serving_dir, name)


def stage_model(model_dir: str, serving_dir: str) -> str:
    """Copies a SavedModel (any push record left behind) into a fresh staging folder of this process."""
    os.makedirs(serving_dir, exist_ok=True)
    staging = _staging_path(serving_dir)
    copy_tree(model_dir, staging)
    stale_record = os.path.join(staging, PUSH_RECORD)
    if os.path.exists(stale_record):
        os.remove(stale_record)
    return staging


def next_version(serving_dir: str) -> int:
    """Above every numbered folder, pushed or not; seconds since the epoch where that is higher. Hold the lock."""
    highest = max((folder.version for folder in scan(serving_dir)), default=0)
    return max(int(time.time()), highest + 1)


def publish_staged(staging: str, serving_dir: str, record: dict) -> ServingFolder:
    """Numbers a staged model, writes its push record and renames it into place. Hold the lock."""
    version = next_version(serving_dir)
    record = dict(record, version=version, pushed_at=utc_now())
    with open(os.path.join(staging, PUSH_RECORD), "w") as handle:
        json.dump(record, handle, indent=2)
    final = os.path.join(serving_dir, str(version))
    os.rename(staging, final)
    return ServingFolder(version, final, record)


def discard_staging(staging: str) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def _staging_owner(name: str) -> Optional[Tuple[int, int, str]]:
    """(started, pid, host) from a staging folder's name, None for names this code did not write."""
    parts = name[len(STAGING_PREFIX):].split("-", 3)
    if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return int(parts[0]), int(parts[1]), parts[3]


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def orphaned_staging(serving_dir: str, now: Optional[float] = None) -> List[str]:
    now = time.time() if now is None else now
    orphans = []
    for name in sorted(os.listdir(serving_dir)) if os.path.isdir(serving_dir) else []:
        if not name.startswith(STAGING_PREFIX):
            continue
        path = os.path.join(serving_dir, name)
        owner = _staging_owner(name)
        started = owner[0] if owner else os.path.getmtime(path)
        same_host_dead = owner is not None and owner[2] == socket.gethostname() and not _process_alive(owner[1])
        if same_host_dead or now - started > STALE_STAGING_S:
            orphans.append(path)
    return orphans


def clean_orphaned_staging(serving_dir: str) -> List[str]:
    """Removes staging folders nobody will finish. Hold the lock."""
    orphans = orphaned_staging(serving_dir)
    for path in orphans:
        discard_staging(path)
    return orphans


def prune_versions(serving_dir: str, keep: int, protect: Iterable[Optional[int]] = ()) -> List[int]:
    """Deletes pushed versions beyond the newest `keep`, never a protected one nor a folder the
    pipeline did not push; returns the deleted versions. Hold the lock."""
    protected = {version for version in protect if version is not None}
    pushed = [folder for folder in scan(serving_dir) if folder.managed]
    doomed = [folder for folder in pushed[:-keep] if folder.version not in protected] if keep > 0 else []
    for folder in doomed:
        # Renamed away first: an interrupted delete leaves an orphaned staging folder, not a half version.
        doomed_path = _staging_path(serving_dir)
        os.rename(folder.path, doomed_path)
        discard_staging(doomed_path)
    return [folder.version for folder in doomed]
