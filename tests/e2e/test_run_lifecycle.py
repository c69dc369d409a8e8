"""A run's life as a user lives it: a second run on the same output dir, Ctrl-C, SIGTERM, SIGKILL.

Real `python -m pipeline run` subprocesses on ten real images, one epoch.
The interrupted runs share one output dir (as a user's would), so the later
ones reuse what the earlier ones completed; each test holds on its own.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

import psutil
import pytest

from pipeline_runs import REPO_ROOT, summary_of, versions

pytestmark = pytest.mark.e2e

STARTS = {name: re.compile(rf"^\[\d+/\d+\] {name} \.\.\.$", re.M) for name in ("StatisticsGen", "Trainer")}
WAIT_SECONDS = 1200  # a loaded 2-core machine can take many minutes to reach the Trainer
STOP_SECONDS = 60  # an interrupted run must be gone within this
MULTI_PROCESS_BEAM = "--beam-args=--direct_running_mode=multi_processing --direct_num_workers=2"


class Run:
    """One `transfer-pipeline run` in its own process group, its output in a log file."""

    def __init__(self, data_dir, output_dir, log_path, *flags):
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2", PYTHONWARNINGS="ignore")
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "run", "--data-dir", str(data_dir), "--output-dir", str(output_dir),
             "--epochs", "1", "--accuracy-threshold", "0", *flags],  # threshold 0: a completed run always pushes
            cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def output(self) -> str:
        with open(self.log_path) as handle:
            return handle.read()

    def wait_for(self, pattern, timeout=WAIT_SECONDS):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.output()):
                return
            assert self.process.poll() is None, f"run ended ({self.process.returncode}) before {pattern}:\n{self.output()[-3000:]}"
            time.sleep(1)
        raise AssertionError(f"no {pattern} within {timeout}s:\n{self.output()[-3000:]}")

    def children(self):
        return psutil.Process(self.process.pid).children(recursive=True)

    def wait_for_beam_workers(self, component, timeout=WAIT_SECONDS):
        """Waits until the component runs Beam worker processes; returns all the run's child processes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            children = self.children()
            if any("sdk_worker_main" in " ".join(_cmdline(child)) for child in children):
                return children
            assert not re.search(rf"\] {component} (done|cached|FAILED)", self.output()), f"{component} ended first"
            time.sleep(0.5)
        raise AssertionError(f"no Beam worker process within {timeout}s:\n{self.output()[-3000:]}")

    def finish(self, timeout=STOP_SECONDS) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        """Whatever a failed test left running goes, workers included."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()


def _cmdline(process):
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def alive(processes):
    running = []
    for process in processes:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
        except psutil.NoSuchProcess:
            pass
    return running






@pytest.fixture
def start_run():
    """Starts runs (Run(...) arguments); kills any the test leaves running."""
    runs = []

    def start(*args):
        runs.append(Run(*args))
        return runs[-1]

    yield start
    for run in runs:
        run.kill()


@pytest.fixture(scope="module")
def sample(real_image_folder_factory):
    return real_image_folder_factory()


@pytest.fixture(scope="module")
def shared_output(tmp_path_factory):
    return tmp_path_factory.mktemp("lifecycle-output")


def test_a_second_run_on_the_same_output_dir_is_refused_naming_the_first(sample, tmp_path, start_run):
    output = tmp_path / "out"
    first = start_run(sample, output, tmp_path / "first.log")
    first.wait_for(r"running \d+ components")

    started = time.monotonic()
    second = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--data-dir", str(sample), "--output-dir", str(output)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=WAIT_SECONDS,
    )

    assert second.returncode == 2, second.stderr[-2000:]
    assert f"pid {first.process.pid} on " in second.stderr and "started 20" in second.stderr
    assert first.process.poll() is None, "the first run must be untouched"
    assert summary_of(output).pid == first.process.pid  # its summary is not overwritten by the refused run
    print(f"second run refused after {time.monotonic() - started:.1f}s: {second.stderr.strip()}")
    os.kill(first.process.pid, signal.SIGINT)
    assert first.finish() == 130


@pytest.mark.parametrize(
    "signum, to_group, component, exit_code",
    [
        (signal.SIGINT, True, "StatisticsGen", 130),  # Ctrl-C in a terminal: the whole process group
        (signal.SIGINT, False, "StatisticsGen", 130),  # kill -INT PID: the main process alone
        (signal.SIGTERM, False, "Trainer", 143),  # kill PID, a scheduler stopping the job
    ],
    ids=["ctrl-c-in-statistics", "sigint-main-in-statistics", "sigterm-in-trainer"],
)
def test_a_signal_stops_the_run_with_its_exit_code_and_no_leftovers(
    sample, shared_output, tmp_path, start_run, signum, to_group, component, exit_code
):
    before = versions(os.path.join(shared_output, "serving"))
    # Beam worker processes in StatisticsGen (a data set this small would run in-process): they must stop too.
    flags = [MULTI_PROCESS_BEAM] if component == "StatisticsGen" else []
    run = start_run(sample, shared_output, tmp_path / "run.log", *flags)
    run.wait_for(STARTS[component])
    children = run.wait_for_beam_workers(component) if component == "StatisticsGen" else run.children()
    assert summary_of(shared_output).status == "running"

    sent, said_before = time.monotonic(), len(run.output())
    (os.killpg if to_group else os.kill)(run.process.pid, signum)
    code = run.finish()
    took = time.monotonic() - sent

    assert code == exit_code, run.output()[-3000:]
    summary = summary_of(shared_output)
    assert summary.status == "interrupted" and signal.Signals(signum).name in summary.error
    states = {row.component: row.state for row in summary.components}
    assert "Pusher" not in states and versions(os.path.join(shared_output, "serving")) == before
    assert alive(children) == [], f"left running: {[p.pid for p in alive(children)]}"
    if not to_group:  # (Ctrl-C also reaches Beam's worker processes, which may print their own KeyboardInterrupt)
        assert "Traceback" not in run.output()[said_before:]
    print(f"{signal.Signals(signum).name} in {component} ({len(children)} child processes): exit {code} "
          f"after {took:.1f}s; components {states}")


def test_a_run_killed_in_the_trainer_resumes_from_the_cache_and_pushes_once(sample, shared_output, tmp_path, start_run):
    before = versions(os.path.join(shared_output, "serving"))
    killed = start_run(sample, shared_output, tmp_path / "killed.log")
    killed.wait_for(STARTS["Trainer"])
    children = killed.children()
    os.killpg(killed.process.pid, signal.SIGKILL)
    assert killed.finish() == -signal.SIGKILL
    psutil.wait_procs(children, timeout=10)

    rerun = start_run(sample, shared_output, tmp_path / "rerun.log")
    assert rerun.finish(timeout=WAIT_SECONDS) == 0, rerun.output()[-3000:]

    assert "was killed" in rerun.output()  # the lock it left was recovered, and said so
    summary = summary_of(shared_output)
    states = {row.component: row.state for row in summary.components}
    for cached in ("ImageFolderExampleGen", "StatisticsGen", "Transform"):
        assert states[cached] == "cached", states
    assert states["Trainer"] == "ran"
    assert summary.status == "succeeded" and summary.gate.blessed is True
    assert len(versions(os.path.join(shared_output, "serving"))) == len(before) + 1
    print(f"rerun after SIGKILL in the Trainer: {states}; pushed: {summary.gate.pushed}")
