"""components/serving/lock.py: one writer at a time, across real processes.

Child processes come from a fork server (a fresh single-threaded process that imports only what the
child needs): they only lock and write files, and a fork of a test process that has run TensorFlow,
Beam or gRPC can crash on the locks their threads held.
"""
import json
import multiprocessing
import os
import signal
import time

import pytest

from components.serving.lock import LOCK_FILE, serving_lock
from components.serving.versions import ServingDirError

CHILDREN = multiprocessing.get_context("forkserver")


def _hold(serving_dir, held, release_file):
    with serving_lock(serving_dir, "holder"):
        held.set()
        deadline = time.monotonic() + 30
        while not os.path.exists(release_file) and time.monotonic() < deadline:
            time.sleep(0.02)


@pytest.fixture
def holder(tmp_path):
    """A real process holding the lock of tmp_path/serving until release() (or until it is killed)."""
    serving = str(tmp_path / "serving")
    release_file = tmp_path / "release"
    held = CHILDREN.Event()
    process = CHILDREN.Process(target=_hold, args=(serving, held, str(release_file)))
    process.start()
    assert held.wait(30), "the holder never got the lock"
    yield serving, process, release_file.touch
    release_file.touch()
    process.join(10)


def test_a_second_process_waits_and_gives_up_naming_the_holder(holder):
    serving, process, _ = holder
    messages = []
    started = time.monotonic()
    with pytest.raises(ServingDirError) as refused:
        with serving_lock(serving, "Pusher", wait_s=0.5, log=messages.append):
            pass
    assert time.monotonic() - started >= 0.5
    assert f"pid {process.pid}" in str(refused.value) and "Pusher waited" in str(refused.value)
    assert messages and f"pid {process.pid}" in messages[0]


def test_the_lock_is_granted_as_soon_as_the_holder_releases_it(holder):
    serving, process, release = holder
    release()
    with serving_lock(serving, "Pusher", wait_s=30):
        holder_info = json.load(open(os.path.join(serving, LOCK_FILE)))
    assert holder_info["pid"] == os.getpid() and holder_info["for"] == "Pusher"


def test_a_killed_holder_leaves_no_stale_lock(holder):
    serving, process, _ = holder
    os.kill(process.pid, signal.SIGKILL)
    process.join(10)
    started = time.monotonic()
    with serving_lock(serving, "Pusher", wait_s=5):
        pass
    assert time.monotonic() - started < 2


def test_an_object_store_serving_dir_is_refused():
    with pytest.raises(ServingDirError, match="object stores"):
        with serving_lock("gs://bucket/serving", "Pusher"):
            pass
