"""Two `transfer-pipeline run`s at once against one serving dir push one model; then list and roll back what they pushed.

Ten real horse-or-human images, --epochs 0 and --weights none (seeded random
weights; two seeds, two different models), --accuracy-threshold 0 and Beam
in memory keep it as light as two whole pipelines at once can be. The test holds the serving dir's lock until both runs wait for it
in ServingBaseline, so both compare against the same (empty) serving dir:
the race a Pusher must lose, every time rather than by chance.
"""
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from components.serving.lock import serving_lock
from components.serving.versions import model_fingerprint, scan
from pipeline_runs import REPO_ROOT, summary_of

pytestmark = pytest.mark.e2e

ENV = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2", PYTHONWARNINGS="ignore", PYTHONUNBUFFERED="1")
WAITING = "ServingBaseline: waiting for the serving dir lock"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=REPO_ROOT, env=ENV, capture_output=True, text=True)


def run_flags(data, root, name, seed, *extra):
    settings = root / f"{name}.yaml"
    # The drift gate reads the serving dir under its lock too, and has its own e2e (test_drift_gate.py):
    # here the runs must reach the Pusher's lock, which the test holds.
    settings.write_text(f"seed: {seed}\ndrift_gate: false\n")
    return ["run", "--data-dir", str(data), "--output-dir", str(root / name), "--serving-dir", str(root / "serving"),
            "--config", str(settings), "--epochs", "0", "--weights", "none", "--accuracy-threshold", "0",
            "--class-recall-threshold", "0",
            "--beam-args=--direct_running_mode=in_memory --direct_num_workers=1", *extra]


class RunningPipeline:
    """A `transfer-pipeline run` subprocess whose output is read as it comes."""

    def __init__(self, args):
        self.process = subprocess.Popen([sys.executable, "-m", "pipeline", *args], cwd=REPO_ROOT, env=ENV,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    def waiting_for_lock(self):
        return any(WAITING in line for line in list(self.lines))

    def finish(self, timeout):
        self.process.wait(timeout)
        self.reader.join(10)
        return self.process.returncode, "".join(self.lines)




@pytest.fixture(scope="module")
def two_runs(real_image_folder_factory, tmp_path_factory):
    data = real_image_folder_factory()
    root = tmp_path_factory.mktemp("concurrent")
    runs = []
    try:
        with serving_lock(str(root / "serving"), "test (until both runs wait)"):
            runs = [RunningPipeline(run_flags(data, root, name, seed)) for name, seed in (("a", 1), ("b", 2))]
            deadline = time.monotonic() + 3600
            while not all(run.waiting_for_lock() for run in runs):
                assert all(run.process.poll() is None for run in runs), [run.finish(1)[1][-3000:] for run in runs]
                assert time.monotonic() < deadline, "the runs never reached ServingBaseline"
                time.sleep(1)
        outcomes = [run.finish(3600) for run in runs]
    finally:
        for run in runs:
            if run.process.poll() is None:
                run.process.kill()
    for code, output in outcomes:
        assert code == 0, output[-4000:]
    return data, root, [summary_of(root / name) for name in ("a", "b")]


def test_two_concurrent_runs_push_exactly_one_model_and_the_other_says_why_not(two_runs):
    _, root, summaries = two_runs
    [version] = scan(str(root / "serving"))

    pushed = [s for s in summaries if s.gate.pushed != "not pushed"]
    refused = [s for s in summaries if s.gate.pushed == "not pushed"]
    assert len(pushed) == 1 and len(refused) == 1
    assert pushed[0].gate.pushed == version.path
    assert refused[0].gate.blessed is True  # judged fine on its own, refused for the race alone
    assert refused[0].gate.push_note == (
        f"not pushed: another run pushed version {version.version} in between (this run's ServingBaseline "
        f"compared against an empty serving dir); the next run compares against version {version.version}"
    )
    assert all(s.status == "succeeded" and s.gate.baseline.startswith("nothing is serving") for s in summaries)
    assert not [name for name in os.listdir(root / "serving") if name.startswith(".staging")]


def test_the_push_record_knows_classes_accuracy_and_data(two_runs):
    data, root, _ = two_runs
    [version] = scan(str(root / "serving"))
    assert version.record["class_names"] == ["horses", "humans"]
    assert 0.0 <= version.record["eval_accuracy"] <= 1.0 and version.record["eval_metric"].endswith("accuracy")
    assert version.record["data_dir"] == str(data) and version.record["compared_with"] is None


def test_rollback_and_list_on_models_the_pipeline_pushed(two_runs):
    data, root, summaries = two_runs
    [first] = scan(str(root / "serving"))
    loser = "a" if summaries[0].gate.pushed == "not pushed" else "b"
    # The losing run again, as "the next run": it now compares against the winner's version.
    # (Cached up to the Trainer; any drop tolerated, so its different model is pushed.)
    rerun = cli(*run_flags(data, root, loser, {"a": 1, "b": 2}[loser], "--max-accuracy-drop", "1",
                          "--max-class-recall-drop", "1"))
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert summary_of(root / loser).gate.baseline == f"serving version {first.version} from {root / 'serving'}"
    [_, second] = scan(str(root / "serving"))

    rolled = cli("serving", "rollback", "--serving-dir", str(root / "serving"))
    assert rolled.returncode == 0, rolled.stderr
    [_, _, restored] = scan(str(root / "serving"))
    assert restored.record["rollback_of"] == first.version and restored.record["withdraws"] == [second.version]
    assert model_fingerprint(restored.path) == first.record["fingerprint"] != second.record["fingerprint"]

    listed = cli("serving", "list", "--serving-dir", str(root / "serving"), "--json")
    rows = json.loads(listed.stdout)["versions"]
    assert [row["served"] for row in rows] == [False, False, True]
    assert rows[-1]["how"] == f"rollback of {first.version}" and rows[1]["how"].endswith("withdrawn by a rollback")
    assert all(row["class_names"] == ["horses", "humans"] for row in rows)

    image = data / "humans" / "human02-00.png"
    predicted = cli("predict", "--model-dir", str(root / "serving"), str(image))
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    assert json.loads(predicted.stdout.strip())["file"].endswith("human02-00.png")
