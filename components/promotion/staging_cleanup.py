"""Removes staging folders a killed push left in the serving dir.

A push copies the model under SERVING_DIR/.staging-<version> and renames it
when complete; a run killed mid-copy leaves the staging folder behind. TF
Serving ignores it (not an integer name), but it holds a model's worth of disk.
"""
from __future__ import annotations

import os
import shutil
import time
from typing import List

from components.promotion.serving_versions import _STAGING_PREFIX  # the one name pushes stage under


def clean_orphaned_staging(serving_dir: str, older_than_s: float = 0.0) -> List[str]:
    """Deletes SERVING_DIR/.staging-* folders last changed more than older_than_s ago; returns their paths.

    older_than_s > 0 spares a push in progress by another run sharing the serving dir.
    """
    if not serving_dir or "://" in serving_dir or not os.path.isdir(serving_dir):
        return []
    removed = []
    now = time.time()
    for name in sorted(os.listdir(serving_dir)):
        path = os.path.join(serving_dir, name)
        if name.startswith(_STAGING_PREFIX) and os.path.isdir(path) and now - os.path.getmtime(path) >= older_than_s:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
