"""One run at a time per output directory: OUTPUT/.run.lock.

The lock is an flock on the file, which the kernel drops when the holding
process dies however it dies (SIGKILL included), so a killed run never leaves
the directory locked. The file's text (pid, host, start time) is only there to
tell the next user who holds it, or whose run was cut short.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from typing import Optional

LOCK_FILE = ".run.lock"


class RunLockedError(RuntimeError):
    """Another run holds the output directory; the message names it."""


def _describe(holder: dict) -> str:
    if not holder:
        return "a run that is just starting"
    return f"pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')}"


def _read_holder(handle) -> dict:
    handle.seek(0)
    try:
        return json.loads(handle.read() or "{}")
    except ValueError:
        return {}


class RunLock:
    """Context manager: holds OUTPUT/.run.lock for the length of one run.

    `recovered` describes the holder of a lock left by a run that did not end
    cleanly (killed), or is None.
    """

    def __init__(self, output_dir: str):
        self.path = os.path.join(output_dir, LOCK_FILE)
        self.recovered: Optional[str] = None
        self._handle = None

    def acquire(self) -> "RunLock":
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            time.sleep(0.2)  # the holder writes its details right after locking
            holder = _read_holder(handle)
            handle.close()
            raise RunLockedError(
                f"{os.path.dirname(self.path)} is in use by another run ({_describe(holder)}); wait for it to "
                "finish, stop it, or pass another --output-dir"
            ) from None
        previous = _read_holder(handle)
        if previous:  # a clean exit empties the file: details left behind mean that run was killed
            self.recovered = _describe(previous)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }))
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is None:
            return
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.flush()
        fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
        self._handle.close()
        self._handle = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> bool:
        self.release()
        return False
