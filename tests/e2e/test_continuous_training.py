"""Continuous training as a team lives it: spans of photographs arriving in one data dir, five local runs
pushing to one serving dir, in the order the weeks bring them.

Four horse-or-human subjects a class: two views of each in span-1, two more of the same subjects in span-2,
so a subject's group crosses the spans.
1. span-1 alone: window ["span-1"], nothing serving yet (no drift reference, no warm start); pushed, and
   the version keeps the drift reference of its data beside its push record;
2. span-2 arrives, `--warm-start`: window ["span-1", "span-2"], the head starts from version 1's (weight
   for weight), the drift gate passes span-2, the candidate is judged on span-2's eval images too;
3. a backfill, `--span span-2 --window-spans 1`: window ["span-2"] alone;
4. span-3 arrives, photographs of hands filed as horses (rock) and humans (paper): stopped before the
   Trainer (exit 1, the summary's drift section naming the checks, nothing pushed);
5. the same with `--accept-drift --reason R`: it trains and records R.
`serving list --json` then names each version's spans. The pretrained base at its default size (the drift
gate's content check measures its features), one epoch, no augmentation, Beam in memory and no absolute
bars keep the runs light; the point policy with a tolerated drop of 1 pushes every model that trains.
"""
import glob
import json
import os
from collections import defaultdict

import pytest
import tensorflow as tf

from components import constants
from components.drift.statistics import REFERENCE_FILE, ReferenceStatistics
from components.model.warm_start import checksum
from pipeline_runs import add_hands_as, add_horse_or_human_span, run_cli, run_pipeline, states, versions

pytestmark = pytest.mark.e2e

SUBJECTS = {"horses": ["horse01", "horse02", "horse03", "horse04"],
            "humans": ["human01", "human02", "human03", "human04"]}
VIEWS = {"span-1": (0, 1), "span-2": (2, 3)}
HANDS = {"horses": "rock", "humans": "paper"}  # span-3: three clips of hands a class, two frames each
LIGHT = ("--keep-versions", "5", "--epochs", "1", "--no-augment", "--accuracy-threshold", "0", "--class-recall-threshold", "0",
         "--comparison-policy", "point", "--max-accuracy-drop", "1", "--max-class-recall-drop", "1",
         "--beam-args=--direct_running_mode=in_memory --direct_num_workers=1")
REASON = "hand photographs are what the app sees now"


def add_span(data, span, horse_or_human_dir):
    add_horse_or_human_span(data, span, horse_or_human_dir, SUBJECTS, VIEWS[span])


def add_hands(data, rock_paper_scissors_dir):
    add_hands_as(data, "span-3", rock_paper_scissors_dir, HANDS)


@pytest.fixture(scope="module")
def weeks(horse_or_human_dir, rock_paper_scissors_dir, tmp_path_factory):
    """{run name: (summary, process, versions served after it, output dir)} and the serving dir."""
    root = tmp_path_factory.mktemp("continuous")
    data, serving = root / "photos", root / "serving"
    found = {}

    def run(name, *flags):
        summary, process = run_pipeline(data, root / name, "--serving-dir", str(serving), *LIGHT, *flags)
        found[name] = (summary, process, versions(serving), root / name)

    add_span(data, "span-1", horse_or_human_dir)
    run("first")
    add_span(data, "span-2", horse_or_human_dir)
    run("warm", "--warm-start")
    run("backfill", "--span", "span-2", "--window-spans", "1")
    add_hands(data, rock_paper_scissors_dir)
    run("stopped")
    run("accepted", "--accept-drift", "--reason", REASON)
    return found, serving


def succeeded(weeks, name):
    summary, process, _, _ = weeks[0][name]
    assert process.returncode == 0 and summary.status == "succeeded", process.stderr[-3000:]
    return summary


def test_span_1_alone_pushes_with_its_window_and_keeps_a_drift_reference_beside_the_push_record(weeks):
    summary = succeeded(weeks, "first")
    found, serving = weeks
    assert summary.spans.window == ["span-1"] and summary.spans.newest == "span-1"
    assert summary.spans.images == {"span-1": {"horses": 8, "humans": 8}}
    assert summary.drift.verdict == "no reference" and "nothing is serving" in summary.drift.why
    assert summary.warm_start is None  # warm start is off unless asked for
    [version] = found["first"][2]
    with open(os.path.join(serving, version, REFERENCE_FILE)) as handle:
        reference = ReferenceStatistics.from_json(handle.read())
    assert reference.class_counts == {"horses": 8, "humans": 8} and reference.format_counts == {"png": 16}
    assert os.path.exists(os.path.join(serving, version, "push_record.json"))


def served_head_checksum(version_dir):
    """The checksum of the served model's head, read from its checkpoint (base first, then the two Dense layers)."""
    reader = tf.train.load_checkpoint(os.path.join(version_dir, "variables", "variables"))
    return checksum([reader.get_tensor(f"layer_with_weights-{layer}/{weight}/.ATTRIBUTES/VARIABLE_VALUE")
                     for layer in (1, 2) for weight in ("kernel", "bias")])


def test_span_2_with_warm_start_trains_on_both_spans_from_the_serving_head(weeks):
    summary = succeeded(weeks, "warm")
    found, serving = weeks
    [first] = found["first"][2]
    assert summary.spans.window == ["span-1", "span-2"] and summary.spans.newest == "span-2"
    assert summary.data.total_examples == 32
    assert summary.drift.verdict == "ok" and summary.drift.reference_version == int(first)
    assert summary.warm_start.from_version == int(first) and summary.warm_start.why_not is None
    [history] = glob.glob(os.path.join(found["warm"][3], "pipeline_root", "Trainer", "model_run", "*", "training_history.json"))
    with open(history) as handle:
        assert json.load(handle)["warm_start"]["head_checksum"] == served_head_checksum(serving / first)
    with open(found["warm"][3] / "run_summary.json") as handle:
        assert json.load(handle)["warm_start"] == {"from_version": int(first)}
    assert found["warm"][2] == [first, os.path.basename(summary.gate.pushed)]


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


def test_examples_carry_their_span_and_a_subject_keeps_one_split_across_spans(weeks):
    spans_of, splits_of = defaultdict(set), defaultdict(set)
    for split, examples in examples_by_split(weeks[0]["warm"][3]).items():
        for features in examples:
            assert text(features, constants.FILE_PATH_KEY).startswith(text(features, constants.SPAN_KEY) + "/")
            spans_of[text(features, constants.GROUP_KEY)].add(text(features, constants.SPAN_KEY))
            splits_of[text(features, constants.GROUP_KEY)].add(split)

    assert len(spans_of) == 8 and all(spans == {"span-1", "span-2"} for spans in spans_of.values())
    assert all(len(splits) == 1 for splits in splits_of.values())
    assert {split for splits in splits_of.values() for split in splits} == {"train", "eval"}


def test_the_newest_span_is_judged_on_its_own_eval_images_when_the_window_holds_more(weeks):
    warm, backfill = succeeded(weeks, "warm"), succeeded(weeks, "backfill")
    span_checks = [check for check in warm.gate.noise["checks"] if check["slice"].startswith(constants.SPAN_KEY + "=")]
    assert [(check["slice"], check["metric"]) for check in span_checks] == [("span=span-2", "accuracy")]
    assert span_checks[0]["examples"] > 0
    assert warm.model.metrics["candidate"]["span=span-2"]["accuracy"] == pytest.approx(span_checks[0]["value"], abs=1e-3)
    # One span in the window: its images are the whole eval set, judged once.
    assert not [check for check in backfill.gate.noise["checks"] if check["slice"].startswith(constants.SPAN_KEY + "=")]


def test_a_backfill_trains_on_the_pinned_span_alone(weeks):
    summary = succeeded(weeks, "backfill")
    assert summary.spans.window == ["span-2"] and summary.spans.newest == "span-2"
    assert summary.spans.images == {"span-2": {"horses": 8, "humans": 8}}
    assert summary.data.total_examples == 16
    assert os.path.isdir(summary.gate.pushed)


def test_hands_filed_as_horses_and_humans_stop_the_run_before_the_trainer(weeks):
    found, _ = weeks
    summary, process, served, _ = found["stopped"]
    assert process.returncode == 1, process.stderr[-3000:]
    assert summary.status == "failed" and summary.stopped_at == "DriftGate"
    assert "Trainer" not in states(summary) and served == found["backfill"][2]  # nothing pushed
    drift = summary.drift
    assert drift.verdict == "drift" and drift.reference_version == int(found["backfill"][2][-1])
    assert drift.newest_span == "span-3" and drift.accepted_reason is None
    failed = {check.name for check in drift.failed}
    assert {"format_share", "size_outside_share"} <= failed
    for name in failed:
        assert name in summary.error and name in process.stderr
    assert "--accept-drift --reason TEXT" in summary.error


def test_accepted_drift_trains_and_records_the_reason(weeks):
    summary = succeeded(weeks, "accepted")
    _, process, _, output_dir = weeks[0]["accepted"]
    assert states(summary)["Trainer"] == "ran"
    assert summary.spans.window == ["span-1", "span-2", "span-3"]
    assert summary.drift.verdict == "accepted" and summary.drift.accepted_reason == REASON
    assert f"drift accepted: {REASON}" in process.stdout
    assert {"format_share", "size_outside_share"} <= {check.name for check in summary.drift.failed}
    with open(output_dir / "run_summary.json") as handle:
        assert json.load(handle)["drift"]["accepted_reason"] == REASON


def test_serving_list_names_the_spans_each_version_was_trained_on(weeks):
    found, serving = weeks
    pushed = [found[name][0].gate.pushed for name in ("first", "warm", "backfill", "accepted")]
    assert all(pushed) and len(set(pushed)) == 4

    listed = json.loads(run_cli("serving", "list", "--serving-dir", str(serving), "--json", check=True).stdout)

    assert [(row["path"], row["spans"]) for row in listed["versions"]] == list(zip(pushed, [
        ["span-1"], ["span-1", "span-2"], ["span-2"], ["span-1", "span-2", "span-3"]]))
