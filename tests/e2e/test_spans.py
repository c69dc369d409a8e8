"""Data that arrives over time: a data dir of spans through the whole local pipeline, twice.

Four horse-or-human subjects per class, four views each: two views of every subject in span-1 and two
more in span-2 (the same subjects photographed again), so a subject's group crosses the spans. One
run with the default window reads both spans; a backfill (`--span span-1 --window-spans 1`) trains on
span-1 alone and pushes to the same serving dir. One epoch of a seeded random base at 75 px, Beam in
memory and no absolute bars keep the two runs light; what they prove is where the spans go: the
examples, the split, the summary, the push records and `serving list`.
"""
import glob
import json
import os
from collections import defaultdict

import pytest
import tensorflow as tf

from components import constants
from pipeline_runs import run_cli, run_pipeline

pytestmark = pytest.mark.e2e

SUBJECTS = {"horses": ["horse01", "horse02", "horse03", "horse04"],
            "humans": ["human01", "human02", "human03", "human04"]}
# The views of each subject in each span: horse-or-human numbers horse views -0.. and human views -00...
VIEWS = {"span-1": (0, 1), "span-2": (2, 3)}
LIGHT = ("--epochs", "1", "--weights", "none", "--image-size", "75", "--no-augment",
         "--accuracy-threshold", "0", "--class-recall-threshold", "0",
         # The backfill's model must be pushed whatever it scores against the first one.
         "--comparison-policy", "point", "--max-accuracy-drop", "1", "--max-class-recall-drop", "1",
         "--beam-args=--direct_running_mode=in_memory --direct_num_workers=1")


@pytest.fixture(scope="module")
def runs(horse_or_human_dir, tmp_path_factory):
    """(the default run's summary, the backfill's summary, the serving dir, the default run's output dir)."""
    root = tmp_path_factory.mktemp("spans")
    data = root / "photos"
    for span, views in VIEWS.items():
        for class_name, subjects in SUBJECTS.items():
            (data / span / class_name).mkdir(parents=True)
            for subject in subjects:
                for view in views:
                    name = f"{subject}-{view}.png" if class_name == "horses" else f"{subject}-{view:02d}.png"
                    (data / span / class_name / name).write_bytes((horse_or_human_dir / class_name / name).read_bytes())
    serving = root / "serving"
    # The drift gate has its own e2e (test_drift_gate.py); a random base's features would call any span drifted.
    no_drift_gate = root / "no-drift-gate.yaml"
    no_drift_gate.write_text("drift_gate: false\n")
    light = (*LIGHT, "--config", str(no_drift_gate))
    every, every_run = run_pipeline(data, root / "every", "--serving-dir", str(serving), *light)
    assert every_run.returncode == 0, every_run.stderr[-3000:]
    backfill, backfill_run = run_pipeline(data, root / "backfill", "--serving-dir", str(serving),
                                          "--span", "span-1", "--window-spans", "1", *light)
    assert backfill_run.returncode == 0, backfill_run.stderr[-3000:]
    assert "spans: span-1, span-2 (newest span-2)" in every_run.stdout
    assert "spans: span-1 (newest span-1)" in backfill_run.stdout
    return every, backfill, serving, root / "every"


def examples_by_split(output_dir):
    """{split: [features]} of the examples ingestion wrote in a run's pipeline root."""
    found = defaultdict(list)
    for split in (constants.TRAIN_SPLIT, constants.EVAL_SPLIT):
        files = glob.glob(os.path.join(output_dir, "pipeline_root", "ImageFolderExampleGen", "examples", "*",
                                       f"Split-{split}", "*.gz"))
        for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
            found[split].append(tf.train.Example.FromString(record.numpy()).features.feature)
    return found


def text(features, key):
    return features[key].bytes_list.value[0].decode()


def test_the_default_window_reads_every_span_and_the_summary_counts_each(runs):
    every, _, _, _ = runs

    assert every.status == "succeeded"
    assert every.spans.window == ["span-1", "span-2"] and every.spans.newest == "span-2"
    assert every.spans.images == {"span-1": {"horses": 8, "humans": 8}, "span-2": {"horses": 8, "humans": 8}}
    assert every.data.total_examples == 32


def test_examples_carry_their_span_and_a_subject_keeps_one_split_across_spans(runs):
    _, _, _, output_dir = runs
    spans_of, splits_of = defaultdict(set), defaultdict(set)
    for split, examples in examples_by_split(output_dir).items():
        for features in examples:
            assert text(features, constants.FILE_PATH_KEY).startswith(text(features, constants.SPAN_KEY) + "/")
            spans_of[text(features, constants.GROUP_KEY)].add(text(features, constants.SPAN_KEY))
            splits_of[text(features, constants.GROUP_KEY)].add(split)

    assert len(spans_of) == 8 and all(spans == {"span-1", "span-2"} for spans in spans_of.values())
    assert all(len(splits) == 1 for splits in splits_of.values())
    assert {split for splits in splits_of.values() for split in splits} == {"train", "eval"}


def test_a_backfill_trains_on_the_pinned_span_alone(runs):
    _, backfill, _, _ = runs

    assert backfill.status == "succeeded"
    assert backfill.spans.window == ["span-1"] and backfill.spans.newest == "span-1"
    assert backfill.spans.images == {"span-1": {"horses": 8, "humans": 8}}
    assert backfill.data.total_examples == 16


def test_the_newest_span_is_judged_on_its_own_eval_images_when_the_window_holds_more(runs):
    every, backfill, _, _ = runs

    span_checks = [check for check in every.gate.noise["checks"] if check["slice"].startswith(constants.SPAN_KEY + "=")]
    assert [(check["slice"], check["metric"]) for check in span_checks] == [("span=span-2", "accuracy")]
    assert span_checks[0]["examples"] > 0
    assert every.model.metrics["candidate"]["span=span-2"]["accuracy"] == pytest.approx(span_checks[0]["value"], abs=1e-3)
    # One span in the window: its images are the whole eval set, judged once.
    assert not [check for check in backfill.gate.noise["checks"] if check["slice"].startswith(constants.SPAN_KEY + "=")]


def test_serving_list_shows_the_spans_each_pushed_model_was_trained_on(runs):
    every, backfill, serving, _ = runs
    assert os.path.isdir(every.gate.pushed) and os.path.isdir(backfill.gate.pushed)

    listed = json.loads(run_cli("serving", "list", "--serving-dir", str(serving), "--json", check=True).stdout)

    assert [(row["path"], row["spans"]) for row in listed["versions"]] == [
        (every.gate.pushed, ["span-1", "span-2"]), (backfill.gate.pushed, ["span-1"])]
