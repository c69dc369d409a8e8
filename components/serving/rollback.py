"""An earlier version served again: re-published as a NEW highest version, recorded, under the lock.

TF Serving serves the highest number, so deleting or renaming the bad
version would race TF Serving and the Pushers; instead the chosen version's
model is copied in as a new version whose push record says `rollback_of` and
which versions it `withdraws` (those are never the gate's bar again, and the
gate refuses to push their model again). A pipeline run that compared
against the version serving before the rollback is refused at push time.
"""
from __future__ import annotations

from typing import Callable, List, Optional

from components.serving.lock import serving_lock
from components.serving.versions import MODEL_FACTS, ServingDirError, ServingFolder, scan
from components.serving.publisher import discard_staging, publish_staged, stage_model


def default_target(folders: List[ServingFolder]) -> Optional[ServingFolder]:
    """The newest pushed version below the served one that holds a different model."""
    served = folders[-1]
    earlier = [f for f in folders[:-1] if f.managed and (not served.managed or f.fingerprint != served.fingerprint)]
    return earlier[-1] if earlier else None


def _target(serving_dir: str, folders: List[ServingFolder], to_version: Optional[int]) -> ServingFolder:
    served = folders[-1]
    if to_version is None:
        target = default_target(folders)
        if target is None:
            raise ServingDirError(f"{serving_dir}: no earlier pushed version holds another model than version {served.version}; nothing to roll back to")
        return target
    by_version = {folder.version: folder for folder in folders}
    if to_version not in by_version:
        known = ", ".join(str(f.version) for f in folders)
        raise ServingDirError(f"{serving_dir} has no version {to_version} (versions: {known})")
    target = by_version[to_version]
    if not target.managed:
        raise ServingDirError(f"{target.path} has no push_record.json (not pushed by this pipeline); roll back to a pushed version")
    if target.version == served.version or (served.managed and target.fingerprint == served.fingerprint):
        raise ServingDirError(f"version {to_version}'s model is the one serving now (version {served.version}); nothing to do")
    return target


def rollback(serving_dir: str, to_version: Optional[int] = None, log: Optional[Callable[[str], None]] = None) -> ServingFolder:
    """Publishes version `to_version` (default: default_target) again as the newest version; returns it."""
    with serving_lock(serving_dir, "rollback", log=log):
        folders = scan(serving_dir)
        if not folders:
            raise ServingDirError(f"{serving_dir} holds no versions; nothing to roll back")
        served = folders[-1]
        target = _target(serving_dir, folders, to_version)
        withdraws = [
            f.version for f in folders
            if f.managed and target.version < f.version <= served.version and f.fingerprint != target.fingerprint
        ]
        record = {key: target.record[key] for key in MODEL_FACTS if key in target.record}
        record.update(pushed_by="rollback", rollback_of=target.version, replaced_version=served.version, withdraws=withdraws)
        staging = stage_model(target.path, serving_dir)
        try:
            return publish_staged(staging, serving_dir, record)
        except BaseException:
            discard_staging(staging)
            raise
