"""Three classes end to end on real photographs (rock-paper-scissors), and the per-class gate.

A small real subset (every frame of five video clips, each clip showing all three gestures) keeps
CI fast. The clips are the groups: each clip's frames of every class go to one split. Runs share
one serving directory, in order: a first 3-class model is blessed and pushed; then a candidate
whose training scissors were spoiled (replaced by noise pictures under the same names) is refused
by the scissors slice, with the overall bars switched off. The first model is trained with another
split seed, so the clip the candidate is evaluated on is one the serving model trained on: it
surely knows that clip's scissors, whatever a few epochs on four clips give on an unseen one.
"""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from components.ingestion.folder_scan import scan_image_folder
from components.ingestion.group_split import assign_splits
from components.schema_contract import class_names_of, load_schema
from pipeline.config import PipelineConfig
from pipeline_runs import REPO_ROOT, versions
from test_promotion_gate import SAVED_MODEL_CLI, run_cli, run_pipeline

pytestmark = pytest.mark.e2e

CLIPS = ("IMG_7079_MOV", "IMG_5636_MOV", "JWitt-RCP_mp4", "youtube", "zoom_tests_RockPaperScissors-mohamed_mp4")
CONFIG = os.path.join(REPO_ROOT, "configs", "rock-paper-scissors.yaml")
RPS_CLASSES = tuple(class_names_of(load_schema(os.path.join(REPO_ROOT, "schemas", "rock_paper_scissors", "schema.pbtxt"))))
# Four epochs of the head alone: the config's fine-tuning stage (five blocks, eight more epochs) is what
# made each run here take minutes, and neither the ingestion nor the per-class gate needs it.
QUICK_TRAINING = ("--epochs", "4", "--fine-tune-blocks", "0")
NO_ABSOLUTE_BARS = ("--accuracy-threshold", "0", "--class-recall-threshold", "0")
FIRST_SPLIT_SEED = "first-model"  # puts IMG_5636_MOV in eval; the config's seed puts JWitt-RCP_mp4 there


def split_by_file(data_dir: Path, seed: str = PipelineConfig.split_seed) -> dict:
    with open(CONFIG) as handle:
        config = yaml.safe_load(handle)
    scan = scan_image_folder(str(data_dir), config["group_pattern"], groups_span_classes=True)
    split_of = assign_splits(scan.candidates, config["eval_fraction"], seed,
                             by_source_kind=config.get("stratify_by_source_kind", False))
    return {c.relative_path: split_of[c.group] for c in scan.candidates}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("three-classes")


@pytest.fixture(scope="module")
def clips(rps_clips):
    return rps_clips(CLIPS)


@pytest.fixture(scope="module")
def first_config(workspace):
    with open(CONFIG) as handle:
        config = yaml.safe_load(handle)
    path = workspace / "first-model.yaml"
    path.write_text(yaml.safe_dump(dict(config, split_seed=FIRST_SPLIT_SEED)))
    return path


@pytest.fixture(scope="module")
def first_run(clips, workspace, first_config):
    return run_pipeline(clips, workspace / "out", "--config", str(first_config), *QUICK_TRAINING, *NO_ABSOLUTE_BARS)


def test_three_classes_are_ingested_with_whole_clips_in_one_split(first_run):
    summary, result = first_run
    assert summary.status == "succeeded", summary.error
    assert summary.data.classes == list(RPS_CLASSES)
    assert summary.data.total_examples == 300
    assert summary.data.groups_per_split == {"eval": 1, "train": 4}  # groups are clips, across classes
    assert summary.data.groups_in_both_splits == []
    assert summary.data.ungrouped_files_per_split == {"eval": 0, "train": 0}
    assert all(summary.data.examples[split][name] > 0 for split in ("train", "eval") for name in RPS_CLASSES)
    assert "confusion matrix" in result.stdout


def test_confusion_matrix_and_per_class_scores_cover_the_eval_split(first_run):
    summary, _ = first_run
    matrix = summary.model.confusion_matrix
    assert matrix.classes == list(RPS_CLASSES)
    counts = np.array(matrix.counts)
    assert counts.shape == (3, 3)
    assert list(counts.sum(axis=1)) == [summary.data.examples["eval"][name] for name in RPS_CLASSES]
    accuracy = summary.model.metrics["candidate"]["overall"]["accuracy"]
    assert accuracy == pytest.approx(np.trace(counts) / counts.sum(), abs=1e-3)
    for index, name in enumerate(RPS_CLASSES):
        recall = summary.model.metrics["candidate"][f"class_name={name}"]["accuracy"]  # the slice's accuracy
        assert summary.model.per_class[name]["recall"] == pytest.approx(recall, abs=1e-3)
        assert summary.model.per_class[name]["recall"] == pytest.approx(counts[index, index] / counts[index].sum(), abs=1e-3)


def test_first_model_is_blessed_pushed_and_answers_with_three_probabilities(first_run, workspace, clips, tmp_path):
    summary, _ = first_run
    assert summary.gate.blessed is True, summary.gate.why
    assert versions(workspace / "out" / "serving") == [os.path.basename(summary.gate.pushed)]

    image = next((clips / "scissors").glob("*.jpg"))
    batch = tmp_path / "image_bytes.npy"
    np.save(batch, np.array([image.read_bytes()], dtype=object), allow_pickle=True)
    ran = subprocess.run(
        [SAVED_MODEL_CLI, "run", "--dir", summary.gate.pushed, "--tag_set", "serve", "--signature_def",
         "serving_images", "--inputs", f"image_bytes={batch}"],
        capture_output=True, text=True, check=True,
    )
    block = ran.stdout.split("Result for output key probabilities:")[1].split("Result for output key")[0]
    probabilities = [float(value) for value in block.replace("[", " ").replace("]", " ").split()]
    assert len(probabilities) == 3 and sum(probabilities) == pytest.approx(1.0, abs=1e-5)
    assert "[[b'paper' b'rock' b'scissors']]" in ran.stdout.replace("\n", "")

    predicted = json.loads(run_cli("predict", "--model-dir", summary.gate.pushed, str(image)).stdout.strip())
    assert list(predicted["probabilities"]) == list(RPS_CLASSES)
    assert predicted["probabilities"] == pytest.approx(dict(zip(RPS_CLASSES, probabilities)), abs=1e-5)
    assert predicted["probability"] == pytest.approx(max(probabilities), abs=1e-5)
    assert predicted["class"] == RPS_CLASSES[int(np.argmax(probabilities))]


def test_candidate_that_gives_up_one_class_is_refused_by_the_per_class_gate(first_run, clips, workspace):
    first, _ = first_run
    spoiled = workspace / "spoiled"
    subprocess.run(["cp", "-r", str(clips), str(spoiled)], check=True)
    split = split_by_file(spoiled)
    assert {name for name, s in split.items() if s == "eval"} & {
        name for name, s in split_by_file(spoiled, FIRST_SPLIT_SEED).items() if s == "train"
    }, "precondition: the candidate's eval clip is one the serving model trained on"
    for index, name in enumerate(sorted(os.listdir(spoiled / "scissors"))):
        if split[f"scissors/{name}"] == "train":
            pixels = np.random.default_rng(index).integers(0, 256, size=(200, 200, 3), dtype=np.uint8)
            Image.fromarray(pixels, "RGB").save(spoiled / "scissors" / name, "JPEG")
    assert split_by_file(spoiled) == split  # same names, same split

    summary, _ = run_pipeline(
        spoiled, workspace / "out-spoiled", "--config", CONFIG, *QUICK_TRAINING, *NO_ABSOLUTE_BARS,
        "--max-accuracy-drop", "1", "--serving-dir", str(workspace / "out" / "serving"),
        # The point checks alone: the per-class bar must catch it by itself (under the default policy the
        # overall accuracy, worse beyond noise, would be refused too).
        "--comparison-policy", "point",
    )

    assert summary.gate.baseline.startswith("serving version")
    baseline_scissors = summary.model.metrics["baseline"]["class_name=scissors"]["accuracy"]
    assert summary.model.per_class["scissors"]["recall"] < baseline_scissors
    assert summary.gate.blessed is False
    failures = summary.gate.failures
    assert any(failure.startswith("[class_name=scissors] accuracy") and "change" in failure for failure in failures)
    assert not any(failure.startswith("[overall]") for failure in failures)  # the overall bars were off
    assert summary.gate.pushed == "not pushed"
    assert versions(workspace / "out" / "serving") == [os.path.basename(first.gate.pushed)]
