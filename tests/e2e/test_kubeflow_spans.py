"""Data that arrives over time, on Kubeflow: three spans rehearsed in sequence, each task in a container of the image.

One rehearsal folder (one KFP install, one serving claim) and one data volume that spans arrive on, as a
team's weekly photographs would. The spec is compiled with warm start on; each run is submitted as
`transfer-pipeline submit` would submit it.

1. span-1 (five horse-or-human subjects a class, three views each) trains and pushes;
2. span-2 (the same subjects, three other views) arrives: the run trains on both spans, its head starts
   from the version serving, and the candidate is judged on span-2's own eval images too;
3. span-3 arrives, photographs of hands filed as horses and humans, submitted with `--window-spans 2` as a
   run parameter: the window is span-2 and span-3, and the DriftGate's pod stops the run before the
   Trainer; nothing after it starts and nothing is pushed;
4. the same run submitted with `--accept-drift --reason R` as well, which `submit` sends as the run
   parameter accept_drift_reason: the gate's pod lets the span through and records R, and the run trains.
One epoch at the default image size: what the runs prove is where spans and heads go, not accuracy.
"""
import os
import shutil
import subprocess
import sys

import pytest

from pipeline_runs import REPO_ROOT, add_hands_as, add_horse_or_human_span, versions
from rehearsal.summary import SUMMARY_FILE, RehearsalRecord

pytestmark = pytest.mark.e2e

MODEL_NAME = "transfer-classifier"
SUBJECTS = {"horses": ["horse01", "horse02", "horse03", "horse04", "horse05"],
            "humans": ["human01", "human02", "human03", "human04", "human05"]}
VIEWS = {"span-1": (0, 1, 2), "span-2": (3, 4, 5)}
HANDS = {"horses": "rock", "humans": "paper"}  # span-3: three clips of hands a class, two frames each
REASON = "the app is used on hand photographs now"
BEFORE_THE_TRAINER = ("ImageFolderExampleGen", "StatisticsGen", "ImportSchemaGen", "DataValidationGate", "DriftGate")
FROM_THE_TRAINER = ("Trainer", "ServingBaseline", "Evaluator", "Pusher", "RunReport")


def add_span(data, span, horse_or_human_dir):
    add_horse_or_human_span(data, span, horse_or_human_dir, SUBJECTS, VIEWS[span])


def add_hands(data, rock_paper_scissors_dir):
    add_hands_as(data, "span-3", rock_paper_scissors_dir, HANDS)


def rehearse(workdir, data, config, *flags):
    result = subprocess.run([sys.executable, "-m", "rehearsal", "--output", str(workdir), "--data-dir", str(data),
                             "--config", str(config), "--epochs", "1", *flags], cwd=REPO_ROOT, capture_output=True, text=True)
    summary_path = workdir / SUMMARY_FILE
    summary = RehearsalRecord.read(str(summary_path)) if summary_path.exists() else None
    return result, summary


@pytest.fixture(scope="module")
def runs(horse_or_human_dir, rock_paper_scissors_dir, tmp_path_factory):
    """{first, second, drifted, accepted: (process, summary, versions served after it)}."""
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed; `make podman` installs it (.ci/run does)")
    built = subprocess.run(["make", "--no-print-directory", "kubeflow-image"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-3000:]  # waits for .ci/run's build, then cached
    root = tmp_path_factory.mktemp("kubeflow-spans")
    workdir, data, config = root / "install", root / "photos", root / "warm-start.yaml"
    config.write_text("warm_start: true\n")
    serving = workdir / "serving" / MODEL_NAME
    found = {}

    def step(name, *flags):
        result, summary = rehearse(workdir, data, config, *flags)
        found[name] = (result, summary, versions(serving))
        return result

    add_span(data, "span-1", horse_or_human_dir)
    step("first")
    add_span(data, "span-2", horse_or_human_dir)
    step("second")
    add_hands(data, rock_paper_scissors_dir)
    step("drifted", "--window-spans", "2")
    step("accepted", "--window-spans", "2", "--accept-drift", "--reason", REASON)
    return found


def succeeded(found, name):
    result, summary, _ = found[name]
    assert result.returncode == 0 and summary.status == "succeeded", result.stdout[-6000:] + result.stderr[-3000:]
    return summary


def test_span_1_alone_trains_in_the_containers_and_pushes(runs):
    summary = succeeded(runs, "first")
    assert summary.spans == ["span-1"]
    assert summary.warm_start["from_version"] is None and "nothing is serving" in summary.warm_start["why_not"]
    assert summary.pushed is True and runs["first"][2] == [summary.pushed_version]


def test_span_2_retrains_on_both_spans_from_the_serving_head_and_is_judged_on_its_own_images(runs):
    first, summary = succeeded(runs, "first"), succeeded(runs, "second")
    assert summary.spans == ["span-1", "span-2"]
    assert summary.states()["DriftGate"] == summary.states()["Trainer"] == "ran"
    assert summary.warm_start["from_version"] == int(first.pushed_version) and summary.warm_start["head_checksum"]
    assert summary.baseline.has_baseline is True and summary.baseline.version == float(first.pushed_version)
    judged = open(summary.task("Evaluator").log).read()
    assert "the newest span, span-2, is judged on its own eval images too" in judged
    assert summary.pushed is True and runs["second"][2] == [first.pushed_version, summary.pushed_version]


def test_a_drifted_span_3_sent_with_a_window_of_two_is_stopped_inside_the_drift_gates_pod_and_nothing_is_pushed(runs):
    result, summary, served = runs["drifted"]
    assert result.returncode == 1 and summary.status == "failed"
    assert "run parameters: window_spans=2" in result.stdout
    assert summary.spans == ["span-2", "span-3"]  # the run parameter reached ImageFolderExampleGen's pod
    assert summary.failed_task.name == "DriftGate" and summary.failed_task.exit_code != 0
    states = summary.states()
    assert all(states[task] in ("ran", "cached") for task in BEFORE_THE_TRAINER[:-1]), states
    assert all(states[task] == "not run" for task in FROM_THE_TRAINER), states
    assert "DriftError: span span-3 drifted" in result.stdout  # the pod log's last lines: the checks and what to do
    assert "format_share" in result.stdout and "--accept-drift --reason TEXT" in result.stdout
    assert summary.pushed is None and served == runs["second"][2]


def test_the_same_span_accepted_for_one_run_by_its_run_parameter_trains_and_records_the_reason(runs):
    result, summary, _ = runs["accepted"]
    summary = succeeded(runs, "accepted")
    assert f"run parameters: accept_drift_reason={REASON!r}, window_spans=2" in result.stdout
    assert summary.states()["DriftGate"] == summary.states()["Trainer"] == "ran"
    assert summary.drift_verdict == "accepted" and summary.drift_accepted_reason == REASON
    assert summary.spans == ["span-2", "span-3"]
