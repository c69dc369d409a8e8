"""The compiled Kubeflow spec, run as KFP's backend runs it: every task in a podman container of the image.

One rehearsal folder is shared, as one KFP install would be: a first rehearsal on a
few real subjects, then (in this order, each needing only the first) an unchanged
rehearsal, a candidate below the gate's bar, and one with images added. The first
goes through `make kubeflow-rehearsal`, which (re)builds the image from this
checkout; podman's layer cache makes that quick when only code changed.
"""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from pipeline.kubeflow.rehearse import chosen_images
from pipeline.config import DEFAULT_GROUP_PATTERN
from pipeline_runs import REPO_ROOT, versions

pytestmark = pytest.mark.e2e

CONSOLE_SCRIPT = os.path.join(os.path.dirname(sys.executable), "transfer-pipeline")
SAVED_MODEL_CLI = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
FIRST_SUBJECTS, ADDED_SUBJECTS, VIEWS = 5, 2, 5
TRAINING = ("ImageFolderExampleGen", "StatisticsGen", "Transform", "Trainer")


@pytest.fixture(scope="module")
def data_dir(horse_or_human_dir, tmp_path_factory):
    """The first FIRST_SUBJECTS subjects of each class, VIEWS images each; the test that adds images adds more."""
    root = tmp_path_factory.mktemp("rehearsal-data")
    for relative in chosen_images(str(horse_or_human_dir), DEFAULT_GROUP_PATTERN, FIRST_SUBJECTS, VIEWS):
        os.makedirs(root / os.path.dirname(relative), exist_ok=True)
        shutil.copy2(horse_or_human_dir / relative, root / relative)
    return root


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("kubeflow-rehearsal")


def rehearse(workdir, data_dir, *flags):
    result = subprocess.run([CONSOLE_SCRIPT, "rehearse-kubeflow", "--output", str(workdir), "--data-dir", str(data_dir),
                             "--epochs", "1", *flags], cwd=REPO_ROOT, capture_output=True, text=True)
    summary_path = workdir / "rehearsal_summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    return result, summary


def states(summary):
    return {task["name"]: task["state"] for task in summary["tasks"]}




@pytest.fixture(scope="module")
def first(workdir, data_dir):
    """`make kubeflow-rehearsal` as scripts and CI call it: it (re)builds the image, then rehearses."""
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed; `make podman` installs it (.ci/run does)")
    env = dict(os.environ, REHEARSAL_OUT=str(workdir), HORSE_OR_HUMAN_DIR=str(data_dir))
    result = subprocess.run(["make", "--no-print-directory", "kubeflow-rehearsal"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return result, json.loads((workdir / "rehearsal_summary.json").read_text())


def test_every_task_runs_in_the_image_and_the_first_model_is_blessed_and_pushed(first, workdir):
    result, summary = first
    assert summary["status"] == "succeeded"
    assert set(states(summary).values()) == {"ran"}, states(summary)
    assert len(summary["tasks"]) == 12  # the local pipeline's 10, RunReport and InputFingerprints; no resolver
    assert summary["baseline"]["has_baseline"] is False
    assert summary["blessed"] is True, summary.get("blessing_failures")
    assert summary["pushed"] is True and versions(workdir / "serving") == [summary["pushed_version"]]
    pod_log = open(next(t["log"] for t in summary["tasks"] if t["name"] == "Trainer")).read()
    assert "peak memory (MB): " in pod_log  # the pods' requests are sized from these lines
    assert "rehearsal succeeded" in result.stdout


def test_on_a_backend_before_kfp_2_3_the_image_user_can_create_the_launchers_folders(first):
    # Before 2.3 KFP mounted no scratch volumes: its launcher made /minio/... (or /gcs, /s3) on the
    # image's own file system, as the image's user.
    from pipeline.kubeflow.pod import podman, podman_env
    from pipeline.kubeflow.rehearse import DEFAULT_IMAGE

    made = subprocess.run([podman(), "run", "--rm", "--network=none", DEFAULT_IMAGE, "sh", "-c",
                           "id -u && mkdir -p /minio/mlpipeline/a /gcs/b/a /s3/b/a"], env=podman_env(), capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "10001"


def test_the_pushed_savedmodel_answers_saved_model_cli_on_a_png(first, workdir, data_dir, tmp_path):
    _, summary = first
    model_dir = workdir / "serving" / summary["pushed_version"]
    image = next((data_dir / "humans").iterdir())
    batch = tmp_path / "image_bytes.npy"
    np.save(batch, np.array([image.read_bytes()], dtype=object), allow_pickle=True)
    ran = subprocess.run([SAVED_MODEL_CLI, "run", "--dir", str(model_dir), "--tag_set", "serve", "--signature_def",
                          "serving_images", "--inputs", f"image_bytes={batch}"], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert re.search(r"Result for output key class_name:\s*\[b'(horses|humans)'\]", ran.stdout), ran.stdout[-2000:]


def test_the_report_is_written_by_the_report_task_as_one_html_page(first, workdir):
    _, summary = first
    page = open(summary["report"]).read()
    assert summary["report"] == str(workdir / "report.html")
    assert page.lstrip().lower().startswith("<!doctype html") and "Kubeflow Pipelines" in page


def test_an_unchanged_rehearsal_reuses_the_cache_and_pushes_nothing(first, workdir, data_dir):
    result, summary = rehearse(workdir, data_dir)
    assert result.returncode == 0, result.stdout[-6000:]
    ran = states(summary)
    assert all(ran[task] == "cached" for task in TRAINING), ran
    assert ran["InputFingerprints"] == ran["ServingBaseline"] == "ran"  # never cached: they read volumes
    assert summary["pushed"] is False and "already serving" in summary["push_note"]
    assert versions(workdir / "serving") == [first[1]["pushed_version"]]


def test_a_candidate_below_the_bar_is_refused_inside_the_containers(first, workdir, data_dir):
    # Zero epochs: the head keeps its random weights.
    result, summary = rehearse(workdir, data_dir, "--epochs", "0")
    assert result.returncode == 0, result.stdout[-6000:]
    assert states(summary)["Trainer"] == "ran"
    assert summary["blessed"] is False
    assert any("accuracy" in failure for failure in summary["blessing_failures"]), summary["blessing_failures"]
    assert summary["pushed"] is False
    assert versions(workdir / "serving") == [first[1]["pushed_version"]]


def test_images_added_to_the_folder_are_trained_on_and_compared_with_the_first_model(first, workdir, data_dir, horse_or_human_dir):
    more = chosen_images(str(horse_or_human_dir), DEFAULT_GROUP_PATTERN, FIRST_SUBJECTS + ADDED_SUBJECTS, VIEWS)
    for relative in more:
        if not (data_dir / relative).exists():
            shutil.copy2(horse_or_human_dir / relative, data_dir / relative)

    result, summary = rehearse(workdir, data_dir)
    assert result.returncode == 0, result.stdout[-6000:]
    assert summary["images"] == len(more)
    assert all(states(summary)[task] == "ran" for task in TRAINING), states(summary)
    assert summary["baseline"]["has_baseline"] is True
    assert summary["baseline"]["version"] == float(first[1]["pushed_version"])
    assert set(summary["eval_accuracy"]) == {"candidate", "baseline"}
