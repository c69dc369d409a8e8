"""One writer at a time in the serving dir: an flock(2) on SERVING_DIR/.push.lock.

Whoever reads a version to compare against, allocates a version number,
renames a staged model into place, prunes or rolls back holds this lock, so
two local runs, or a local run and a Kubeflow pod sharing the serving volume,
never interleave those steps.

Why flock and not an O_CREAT|O_EXCL lock file: the kernel (or, on an NFS
volume, the NFS server's lock manager, to which Linux maps flock) drops the
lock when its holder dies, so there is no stale lock to guess about; a lock
file would need a time-out that either breaks a slow live holder or keeps
everyone waiting after a crash. Volumes without working locks (NFS mounted
with `nolock`, some FUSE file systems) cannot host a serving dir shared by
several writers. The holder writes host, pid and time into the file so a
waiting run can say whom it waits for.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import time
from typing import Callable, Iterator, Optional

from components.serving.versions import ServingDirError

LOCK_FILE = ".push.lock"
DEFAULT_WAIT_S = 600.0
_POLL_S = 0.2


def _print(message: str) -> None:
    print(message, flush=True)


def _holder_text(path: str) -> str:
    try:
        with open(path) as handle:
            holder = json.load(handle)
        return f"host {holder['host']} pid {holder['pid']} since {holder['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextlib.contextmanager
def serving_lock(
    serving_dir: str, purpose: str, wait_s: float = DEFAULT_WAIT_S, log: Optional[Callable[[str], None]] = None
) -> Iterator[None]:
    """Holds the serving dir's lock for the block; waits up to wait_s for another holder to finish."""
    if "://" in serving_dir:
        raise ServingDirError(
            f"serving dir {serving_dir}: pushing needs a file lock, which object stores do not offer; "
            "use a mounted volume (a path) as the serving dir"
        )
    os.makedirs(serving_dir, exist_ok=True)
    path = os.path.join(serving_dir, LOCK_FILE)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o664)
    try:
        deadline, announced = time.monotonic() + wait_s, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES):
                    raise ServingDirError(f"{path}: cannot lock ({err}); the serving dir's file system must support flock") from None
            if time.monotonic() > deadline:
                raise ServingDirError(
                    f"{path}: still held by {_holder_text(path)} after {wait_s:.0f}s ({purpose} waited); "
                    "try again when that run has finished"
                )
            if not announced:
                (log or _print)(f"{purpose}: waiting for the serving dir lock held by {_holder_text(path)}")
                announced = True
            time.sleep(_POLL_S)
        holder = {"host": socket.gethostname(), "pid": os.getpid(), "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "for": purpose}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
