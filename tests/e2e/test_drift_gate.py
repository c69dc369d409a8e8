"""The drift gate in local runs, three of them into one serving dir.

span-1 (four horse-or-human subjects a class, two views each) trains and pushes, and the version keeps the
drift reference of its data beside its push record. Then span-3 arrives: rock-paper-scissors photographs of
hands filed as horses (rock) and humans (paper). The next run stops before the Trainer (exit 1, status
failed, the summary's drift section and the error naming the checks, nothing pushed); the same run with
`--accept-drift --reason R` trains and records R. One epoch of a seeded random base at 75 px: the hands are
caught by the format and size checks, which need no pretrained features (docs/quality.md, "The drift
gate's thresholds").
"""
import json
import os

import pytest

from components.drift.statistics import REFERENCE_FILE, ReferenceStatistics
from pipeline_runs import run_pipeline, states, versions

pytestmark = pytest.mark.e2e

SUBJECTS = {"horses": ["horse01", "horse02", "horse03", "horse04"],
            "humans": ["human01", "human02", "human03", "human04"]}
# Three clips of hands a class, two frames each, named as subjects so that they split by clip.
HANDS = {"horses": "rock", "humans": "paper"}
LIGHT = ("--epochs", "1", "--weights", "none", "--image-size", "75", "--no-augment",
         "--accuracy-threshold", "0", "--class-recall-threshold", "0",
         "--comparison-policy", "point", "--max-accuracy-drop", "1", "--max-class-recall-drop", "1",
         "--beam-args=--direct_running_mode=in_memory --direct_num_workers=1")
REASON = "hand photographs are what the app sees now"


@pytest.fixture(scope="module")
def runs(horse_or_human_dir, rock_paper_scissors_dir, tmp_path_factory):
    """{first, stopped, accepted: (summary, process)}, the serving dir and the versions after each run."""
    root = tmp_path_factory.mktemp("drift")
    data, serving = root / "photos", root / "serving"
    for class_name, subjects in SUBJECTS.items():
        (data / "span-1" / class_name).mkdir(parents=True)
        for subject in subjects:
            for view in (0, 1):
                name = f"{subject}-{view}.png" if class_name == "horses" else f"{subject}-{view:02d}.png"
                (data / "span-1" / class_name / name).write_bytes((horse_or_human_dir / class_name / name).read_bytes())
    found, after = {}, {}
    found["first"] = run_pipeline(data, root / "first", "--serving-dir", str(serving), *LIGHT)
    after["first"] = versions(serving)
    for class_name, gesture in HANDS.items():
        (data / "span-3" / class_name).mkdir(parents=True)
        frames = sorted((rock_paper_scissors_dir / gesture).iterdir())[:6]
        for i, frame in enumerate(frames):
            (data / "span-3" / class_name / f"{gesture}{i // 2 + 1:02d}-{i % 2}.jpg").write_bytes(frame.read_bytes())
    found["stopped"] = run_pipeline(data, root / "stopped", "--serving-dir", str(serving), *LIGHT)
    after["stopped"] = versions(serving)
    found["accepted"] = run_pipeline(data, root / "accepted", "--serving-dir", str(serving), *LIGHT,
                                     "--accept-drift", "--reason", REASON)
    after["accepted"] = versions(serving)
    return found, serving, after


def test_the_first_run_has_no_reference_and_its_push_keeps_one_beside_the_push_record(runs):
    found, serving, after = runs
    summary, process = found["first"]
    assert process.returncode == 0, process.stderr[-3000:]
    assert summary.drift.verdict == "no reference" and "nothing is serving" in summary.drift.why
    [version] = after["first"]
    with open(os.path.join(serving, version, REFERENCE_FILE)) as handle:
        reference = ReferenceStatistics.from_json(handle.read())
    assert reference.class_counts == {"horses": 8, "humans": 8} and reference.format_counts == {"png": 16}
    assert os.path.exists(os.path.join(serving, version, "push_record.json"))


def test_hands_filed_as_horses_and_humans_stop_the_run_before_the_trainer(runs):
    found, _, after = runs
    summary, process = found["stopped"]
    assert process.returncode == 1, process.stderr[-3000:]
    assert summary.status == "failed" and summary.stopped_at == "DriftGate"
    assert "Trainer" not in states(summary) and after["stopped"] == after["first"]  # nothing pushed
    drift = summary.drift
    assert drift.verdict == "drift" and drift.reference_version == int(after["first"][0])
    assert drift.newest_span == "span-3" and drift.accepted_reason is None
    failed = {check.name for check in drift.failed}
    assert {"format_share", "size_outside_share"} <= failed
    for name in failed:
        assert name in summary.error and name in process.stderr
    assert "--accept-drift --reason TEXT" in summary.error


def test_accepted_drift_trains_and_records_the_reason(runs):
    found, _, _ = runs
    summary, process = found["accepted"]
    assert process.returncode == 0, process.stderr[-3000:]
    assert states(summary)["Trainer"] == "ran"
    assert summary.drift.verdict == "accepted" and summary.drift.accepted_reason == REASON
    assert f"drift accepted: {REASON}" in process.stdout
    assert {"format_share", "size_outside_share"} <= {check.name for check in summary.drift.failed}
    with open(os.path.join(summary.output_dir, "run_summary.json")) as handle:
        assert json.load(handle)["drift"]["accepted_reason"] == REASON
