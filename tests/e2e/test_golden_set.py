"""The golden set (--golden-dir): a fixed labelled folder, never trained on, judged every run.

Six horse-or-human subjects per class train and evaluate; two other subjects per class are the golden
set. The first run pushes and records the golden judgement beside the eval set's. The second, into the
same serving dir, has a golden set whose labels are swapped (the horses filed as humans and the
reverse) and another training seed (the same data and seed train the same model again, which the
gate would take for the serving one): the eval set still meets every bar, and the golden set alone
refuses the candidate. The pretrained base (frozen, at 75 px, no augmentation) makes the model good
enough for the swap to tell; an absolute bar of 0.5 and no relative ones keep the two runs' verdicts
independent of each other.
"""
import glob
import os

import pytest
import tensorflow as tf

from components import constants
from pipeline_runs import run_cli, run_pipeline, versions

pytestmark = pytest.mark.e2e

TRAINED = {"horses": [f"horse0{n}" for n in range(1, 7)], "humans": [f"human0{n}" for n in range(1, 7)]}
GOLDEN = {"horses": ["horse07", "horse08"], "humans": ["human07", "human08"]}
VIEWS = range(4)
LIGHT = ("--epochs", "3", "--batch-size", "8", "--image-size", "75", "--no-augment",
         "--accuracy-threshold", "0.5", "--class-recall-threshold", "0",
         "--comparison-policy", "point", "--max-accuracy-drop", "1", "--max-class-recall-drop", "1",
         "--beam-args=--direct_running_mode=in_memory --direct_num_workers=1")


def file_name(class_name, subject, view):
    return f"{subject}-{view}.png" if class_name == "horses" else f"{subject}-{view:02d}.png"


def copy_subjects(source, target, subjects, filed_as=lambda class_name: class_name):
    for class_name, names in subjects.items():
        (target / filed_as(class_name)).mkdir(parents=True, exist_ok=True)
        for subject in names:
            for view in VIEWS:
                name = file_name(class_name, subject, view)
                (target / filed_as(class_name) / name).write_bytes((source / class_name / name).read_bytes())


@pytest.fixture(scope="module")
def runs(horse_or_human_dir, tmp_path_factory):
    """(the first run's summary and process, the swapped golden set's summary and process, the serving dir, root)."""
    root = tmp_path_factory.mktemp("golden")
    copy_subjects(horse_or_human_dir, root / "photos", TRAINED)
    copy_subjects(horse_or_human_dir, root / "golden", GOLDEN)
    swapped = {"horses": "humans", "humans": "horses"}
    copy_subjects(horse_or_human_dir, root / "golden-swapped", GOLDEN, filed_as=swapped.get)
    serving = root / "serving"
    configs = []
    for seed in (42, 7):  # the second model is trained from another draw, so it is not the serving one again
        configs.append(root / f"seed-{seed}.yaml")
        configs[-1].write_text(f"drift_gate: false\nseed: {seed}\n")  # the drift gate has its own e2e
    light = (*LIGHT, "--serving-dir", str(serving))
    first, first_run = run_pipeline(root / "photos", root / "first", "--golden-dir", str(root / "golden"), *light,
                                    "--config", str(configs[0]))
    assert first_run.returncode == 0, first_run.stderr[-3000:]
    second, second_run = run_pipeline(root / "photos", root / "second", "--golden-dir", str(root / "golden-swapped"),
                                      *light, "--config", str(configs[1]))
    assert second_run.returncode == 0, second_run.stderr[-3000:]
    return (first, first_run), (second, second_run), serving, root


def test_the_golden_images_are_their_own_split_counted_per_class_and_never_trained_on(runs):
    (first, run), _, _, root = runs

    assert first.data.examples[constants.GOLDEN_SPLIT] == {"horses": 8, "humans": 8}
    assert "golden set: " in run.stdout
    trained = set()
    for split in (constants.TRAIN_SPLIT, constants.EVAL_SPLIT):
        files = glob.glob(os.path.join(root, "first", "pipeline_root", "ImageFolderExampleGen", "examples", "*",
                                       f"Split-{split}", "*.gz"))
        for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
            features = tf.train.Example.FromString(record.numpy()).features.feature
            trained.add(features[constants.GROUP_KEY].bytes_list.value[0].decode().split("/")[-1])
    assert trained == {subject for names in TRAINED.values() for subject in names}


def test_the_first_run_is_judged_on_the_golden_set_too_and_pushes(runs):
    (first, _), _, serving, root = runs

    golden = first.gate.golden
    assert golden is not None and golden.verdict == "passed" and golden.examples == 16
    assert golden.serving is None  # nothing served before
    assert 0.5 <= golden.candidate["value"] and golden.candidate["lower"] <= golden.candidate["value"] <= golden.candidate["upper"]
    assert first.gate.blessed and os.path.isdir(first.gate.pushed) and len(versions(serving)) == 1
    assert glob.glob(os.path.join(root, "first", "pipeline_root", "Evaluator", "evaluation", "*", "golden", "eval_config.json"))
    report = (root / "first" / "report.html").read_text()
    assert 'id="golden-set"' in report and "16 fixed images" in report


def test_a_candidate_that_fails_the_golden_set_alone_is_refused_and_not_pushed(runs):
    (first, _), (second, run), serving, root = runs

    golden = second.gate.golden
    assert golden.verdict == "refused"
    assert golden.candidate["value"] < 0.5 and golden.serving is not None
    assert not second.gate.blessed and second.gate.pushed == "not pushed"
    assert second.gate.failures and all(failure.startswith("[golden set]") for failure in second.gate.failures)
    assert versions(serving) == [os.path.basename(first.gate.pushed)]
    assert "golden set: refused" in run.stdout
    assert "[golden set]" in (root / "second" / "report.html").read_text()


def test_a_golden_image_that_is_also_in_the_training_data_stops_the_run_naming_it(horse_or_human_dir, tmp_path):
    copy_subjects(horse_or_human_dir, tmp_path / "photos", TRAINED)
    copy_subjects(horse_or_human_dir, tmp_path / "golden", GOLDEN)
    leaked = tmp_path / "golden" / "horses" / "copy.png"
    leaked.write_bytes((tmp_path / "photos" / "horses" / "horse01-0.png").read_bytes())

    run = run_cli("run", "--data-dir", str(tmp_path / "photos"), "--output-dir", str(tmp_path / "out"),
                  "--golden-dir", str(tmp_path / "golden"), *LIGHT)

    assert run.returncode == 2
    assert str(leaked) in run.stderr and "horse01-0.png" in run.stderr and "also in the training data" in run.stderr
