"""pipeline/local/run_lock.py: one run per output dir; a killed run's lock never blocks the next."""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from pipeline.local.run_lock import RunLock, RunLockedError

HOLD_LOCK = """
import sys, time
from pipeline.local.run_lock import RunLock
lock = RunLock(sys.argv[1]).acquire()
print("locked", flush=True)
time.sleep(600)
"""


def holder(output_dir):
    """Another process holding the lock, as a running `run` would."""
    process = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(output_dir)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_second_run_is_refused_naming_pid_host_and_start(tmp_path):
    process = holder(tmp_path)
    try:
        with pytest.raises(RunLockedError) as refused:
            RunLock(str(tmp_path)).acquire()
        message = str(refused.value)
        assert f"pid {process.pid} on {socket.gethostname()}, started {time.strftime('%Y-%m-%d')}" in message
        assert str(tmp_path) in message and "--output-dir" in message
    finally:
        process.kill()
        process.wait()


def test_the_lock_of_a_killed_run_is_recovered_and_reported(tmp_path):
    process = holder(tmp_path)
    process.send_signal(signal.SIGKILL)
    process.wait()

    with RunLock(str(tmp_path)) as lock:
        assert lock.recovered and f"pid {process.pid}" in lock.recovered
        assert f'"pid": {os.getpid()}' in (tmp_path / ".run.lock").read_text()


def test_a_clean_release_leaves_nothing_to_recover(tmp_path):
    with RunLock(str(tmp_path)):
        pass
    with RunLock(str(tmp_path)) as again:
        assert again.recovered is None
