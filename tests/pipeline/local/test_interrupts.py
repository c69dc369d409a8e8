"""pipeline/local/interrupts.py: SIGINT/SIGTERM become RunInterrupted, exit 128+signal, and no child process survives."""
import signal
import subprocess
import sys

import psutil
import pytest

from pipeline.local.interrupts import REDELIVER_SECONDS

GUARDED_RUN = """
import os, signal, subprocess, sys, time
from pipeline.local.interrupts import InterruptGuard, RunInterrupted

with InterruptGuard() as guard:
    try:
        worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        print(worker.pid, flush=True)
        time.sleep(600)  # stands for the DAG: any Python code in the main thread
    except RunInterrupted as stopped:
        guard.stopping()
        os.kill(os.getpid(), signal.SIGINT)  # a second signal while winding up does not cut it short
        print(stopped.signal_name, stopped.exit_code, flush=True)
        sys.exit(stopped.exit_code)
"""


@pytest.mark.parametrize("signum, exit_code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_guarded_run_with_its_exit_code_and_its_children(signum, exit_code):
    run = subprocess.Popen([sys.executable, "-c", GUARDED_RUN], stdout=subprocess.PIPE, text=True)
    worker = psutil.Process(int(run.stdout.readline()))

    run.send_signal(signum)

    assert run.wait(timeout=30) == exit_code
    assert run.stdout.read().split() == [signal.Signals(signum).name, str(exit_code)]
    assert not psutil.pid_exists(worker.pid) or worker.status() == psutil.STATUS_ZOMBIE


SWALLOWING_RUN = """
import sys, time
from pipeline.local.interrupts import InterruptGuard, RunInterrupted

with InterruptGuard() as guard:
    try:
        try:
            print("ready", flush=True)
            time.sleep(600)
        except RunInterrupted:  # as a finalizer or an `except BaseException: pass` would
            print("lost", flush=True)
        started = time.monotonic()
        while True:  # the run goes on, in Python and in sleeps
            sum(range(1000))
            time.sleep(0.01)
    except RunInterrupted as stopped:
        guard.stopping()
        print(stopped.signal_name, round(time.monotonic() - started), flush=True)
        sys.exit(stopped.exit_code)
"""


def test_a_signal_whose_exception_is_lost_is_delivered_again_until_the_run_winds_up():
    run = subprocess.Popen([sys.executable, "-c", SWALLOWING_RUN], stdout=subprocess.PIPE, text=True)
    assert run.stdout.readline().strip() == "ready"

    run.send_signal(signal.SIGINT)

    assert run.wait(timeout=30) == 130
    lost, name, seconds = run.stdout.read().split()
    assert (lost, name) == ("lost", "SIGINT")
    assert int(seconds) <= 2 * REDELIVER_SECONDS


FINALIZER_RUN = """
import gc, sys, time
from pipeline.local.interrupts import InterruptGuard, RunInterrupted

class Server:  # a finalizer the signal lands in, as gRPC's _Server.__del__ during a Trainer's collection
    def __del__(self):
        print("finalizer", flush=True)
        time.sleep(600)

class Broken:
    def __del__(self):
        raise ValueError("a finalizer's own error")

with InterruptGuard() as guard:
    try:
        print("ready", flush=True)
        Server()  # freed at once: the signal arrives in its __del__, which swallows the interrupt
        Broken()  # another finalizer's error is still reported
        while True:
            time.sleep(0.01)
    except RunInterrupted as stopped:
        guard.stopping()
        print(stopped.signal_name, flush=True)
        sys.exit(stopped.exit_code)
"""


def test_an_interrupt_a_finalizer_lost_prints_no_traceback_and_other_finalizer_errors_still_do():
    run = subprocess.Popen([sys.executable, "-c", FINALIZER_RUN], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    assert run.stdout.readline().strip() == "ready"
    assert run.stdout.readline().strip() == "finalizer"

    run.send_signal(signal.SIGTERM)

    assert run.wait(timeout=30) == 143
    assert run.stdout.read().split() == ["SIGTERM"]
    errors = run.stderr.read()
    assert "RunInterrupted" not in errors and "Traceback" in errors and "a finalizer's own error" in errors
