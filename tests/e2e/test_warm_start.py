"""Warm start through the whole local pipeline: a first run pushes, span-2 arrives, a second run's head
starts from the first's.

Four horse-or-human subjects per class, two views each per span. One epoch of a seeded random base at
75 px, Beam in memory and no absolute bars keep the two runs light; what they prove is where the head
comes from: the second run records the first's version, and the head it starts from is, weight for
weight, the serving version's (a checksum of the weights just after loading against one of the served
checkpoint's). No accuracy is asserted: one epoch on a dozen images measures nothing.
"""
import glob
import json
import os

import pytest
import tensorflow as tf

from components.model.warm_start import checksum
from pipeline_runs import run_pipeline, versions

pytestmark = pytest.mark.e2e

SUBJECTS = {"horses": ["horse01", "horse02", "horse03", "horse04"],
            "humans": ["human01", "human02", "human03", "human04"]}
VIEWS = {"span-1": (0, 1), "span-2": (2, 3)}
LIGHT = ("--warm-start", "--epochs", "1", "--weights", "none", "--image-size", "75", "--no-augment",
         "--accuracy-threshold", "0", "--class-recall-threshold", "0",
         # The second model must be pushed whatever it scores against the first one.
         "--comparison-policy", "point", "--max-accuracy-drop", "1", "--max-class-recall-drop", "1",
         "--beam-args=--direct_running_mode=in_memory --direct_num_workers=1")


def add_span(data, span, horse_or_human_dir):
    for class_name, subjects in SUBJECTS.items():
        (data / span / class_name).mkdir(parents=True)
        for subject in subjects:
            for view in VIEWS[span]:
                name = f"{subject}-{view}.png" if class_name == "horses" else f"{subject}-{view:02d}.png"
                (data / span / class_name / name).write_bytes((horse_or_human_dir / class_name / name).read_bytes())


def warm_start_of_history(output_dir):
    [history] = glob.glob(os.path.join(output_dir, "pipeline_root", "Trainer", "model_run", "*", "training_history.json"))
    with open(history) as handle:
        return json.load(handle)["warm_start"]


def served_head_checksum(version_dir):
    """The checksum of the served model's head, read from its checkpoint (base first, then the two Dense layers)."""
    reader = tf.train.load_checkpoint(os.path.join(version_dir, "variables", "variables"))
    return checksum([reader.get_tensor(f"layer_with_weights-{layer}/{weight}/.ATTRIBUTES/VARIABLE_VALUE")
                     for layer in (1, 2) for weight in ("kernel", "bias")])


def test_adding_a_span_with_warm_start_starts_from_the_serving_head(horse_or_human_dir, tmp_path):
    data, serving = tmp_path / "photos", tmp_path / "serving"
    # The drift gate has its own e2e (test_drift_gate.py); a random base's features would call span-2 drifted.
    (tmp_path / "no-drift-gate.yaml").write_text("drift_gate: false\n")
    light = ("--config", str(tmp_path / "no-drift-gate.yaml"), *LIGHT)
    add_span(data, "span-1", horse_or_human_dir)
    first, first_run = run_pipeline(data, tmp_path / "first", "--serving-dir", str(serving), *light)
    assert first_run.returncode == 0, first_run.stderr[-3000:]
    [served] = versions(serving)
    add_span(data, "span-2", horse_or_human_dir)

    second, second_run = run_pipeline(data, tmp_path / "second", "--serving-dir", str(serving), *light)

    assert second_run.returncode == 0, second_run.stderr[-3000:]
    assert first.warm_start.from_version is None and "nothing is serving" in first.warm_start.why_not
    assert second.spans.window == ["span-1", "span-2"]
    assert second.warm_start.from_version == int(served) and second.warm_start.why_not is None
    loaded = warm_start_of_history(tmp_path / "second")
    assert loaded["head_checksum"] == served_head_checksum(serving / served)
    with open(tmp_path / "second" / "run_summary.json") as handle:
        assert json.load(handle)["warm_start"] == {"from_version": int(served)}
    assert len(versions(serving)) == 2 and os.path.isdir(second.gate.pushed)  # the warm-started model went out too
