"""The compiled Kubeflow spec, run as a stock KFP install's backend runs it: every task in a podman container of the image.

One rehearsal folder is shared, as one KFP install would be, and its runs go in this order, each
needing the ones before: a first run on a few real subjects (KFP 2.17.0, logs published, as
installed); an unchanged run; images added while the Trainer's memory limit is too small for it
(the run fails at the Trainer); the same with the limit restored (what completed is reused);
an anomalous class folder the data gate refuses; that folder removed again, with a candidate
below the gate's bar. The first goes through `make kubeflow-rehearsal`, which (re)builds the image
from this checkout; podman's layer cache makes that quick when only code changed. A second
folder rehearses three classes (rock-paper-scissors) as KFP 2.5.0 with logs not published.
"""
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

from pipeline.config import DEFAULT_GROUP_PATTERN
from pipeline_runs import REPO_ROOT, versions
from rehearsal.data import chosen_images
from rehearsal.summary import SUMMARY_FILE, RehearsalRecord

pytestmark = pytest.mark.e2e

SAVED_MODEL_CLI = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
MODEL_NAME = "transfer-classifier"  # compile-kubeflow's default serving dir is /serving/transfer-classifier
FIRST_SUBJECTS, ADDED_SUBJECTS, VIEWS = 5, 2, 5
TRAINING = ("ImageFolderExampleGen", "StatisticsGen", "Transform", "Trainer")
AFTER_TRAINER = ("Evaluator", "Pusher", "RunReport")


@pytest.fixture(scope="module")
def data_dir(horse_or_human_dir, tmp_path_factory):
    """The first FIRST_SUBJECTS subjects of each class, VIEWS images each; later runs add more."""
    root = tmp_path_factory.mktemp("rehearsal-data")
    for relative in chosen_images(str(horse_or_human_dir), DEFAULT_GROUP_PATTERN, FIRST_SUBJECTS, VIEWS):
        os.makedirs(root / os.path.dirname(relative), exist_ok=True)
        shutil.copy2(horse_or_human_dir / relative, root / relative)
    return root


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("kubeflow-rehearsal")


def rehearse(workdir, data_dir, *flags):
    result = subprocess.run([sys.executable, "-m", "rehearsal", "--output", str(workdir), "--data-dir", str(data_dir),
                             "--epochs", "1", *flags], cwd=REPO_ROOT, capture_output=True, text=True)
    summary_path = workdir / SUMMARY_FILE
    return result, RehearsalRecord.read(str(summary_path)) if summary_path.exists() else None


def states(summary):
    return summary.states()


def executions(summary):
    return {task.name: task.cached_from if task.state == "cached" else task.execution_id for task in summary.tasks}


def served(workdir):
    return versions(workdir / "serving" / MODEL_NAME)


@pytest.fixture(scope="module")
def first(workdir, data_dir):
    """`make kubeflow-rehearsal` as scripts and CI call it: it (re)builds the image, then rehearses."""
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed; `make podman` installs it (.ci/run does)")
    env = dict(os.environ, REHEARSAL_OUT=str(workdir), HORSE_OR_HUMAN_DIR=str(data_dir))
    result = subprocess.run(["make", "--no-print-directory", "kubeflow-rehearsal"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return result, RehearsalRecord.read(str(workdir / SUMMARY_FILE))


def test_every_task_runs_in_the_image_as_a_stock_install_and_the_first_model_is_pushed(first, workdir):
    result, summary = first
    assert summary.status == "succeeded"
    assert set(states(summary).values()) == {"ran"}, states(summary)
    assert len(summary.tasks) == 13  # the local pipeline's 11 (DriftGate among them), RunReport and InputFingerprints; no resolver
    assert summary.kfp_backend == "2.17.0" and summary.publish_logs is True
    # `submit` sends the spec's root as the run's pipeline_root, which KFP takes before anything else
    assert summary.pipeline_root == "minio://mlpipeline/v2/artifacts"
    assert summary.pipeline_root_source == "the run's runtime_config.pipeline_root"
    assert summary.baseline.has_baseline is False
    assert summary.blessed is True, summary.blessing_failures
    assert summary.pushed is True and served(workdir) == [summary.pushed_version]
    pod_log = open(summary.task("Trainer").log).read()
    assert "peak memory (MB): " in pod_log  # the pods' requests are sized from these lines
    assert "rehearsal succeeded" in result.stdout
    # Argo starts every task whose upstream succeeded: the drift gate's pod ran beside the data gate's, and
    # beside Transform's after it
    drift, data_gate, transform = summary.task("DriftGate"), summary.task("DataValidationGate"), summary.task("Transform")
    for beside in (data_gate, transform):
        assert drift.started_after < beside.started_after + beside.seconds, (drift, beside)
        assert beside.started_after < drift.started_after + drift.seconds, (drift, beside)
    trainer = summary.task("Trainer")  # and the Trainer only once all three had succeeded
    assert trainer.started_after >= max(task.started_after + task.seconds for task in (drift, data_gate, transform)), \
        summary.tasks


def test_the_data_gate_passed_clean_data_beside_the_launchers_log_file_which_was_uploaded(first, workdir):
    # A stock install (PUBLISH_LOGS=true) adds executor-logs to every task and creates its file before the
    # command starts; the entrypoint leaves it to the launcher, which uploads what the command printed.
    _, summary = first
    task_logs = [key for key in object_keys(workdir) if "/DataValidationGate/" in key and key.endswith("/executor-logs-0")]
    assert len(task_logs) == 1, task_logs
    text = open(os.path.join(workdir, "object-store", "minio", "mlpipeline", task_logs[0])).read()
    gate_log = open(summary.task("DataValidationGate").log).read()
    assert text == gate_log and "peak memory (MB): " in text


def object_keys(workdir):
    bucket = os.path.join(workdir, "object-store", "minio", "mlpipeline")
    return [os.path.relpath(os.path.join(root, name), bucket) for root, _, names in os.walk(bucket) for name in names]


def test_on_a_backend_before_kfp_2_3_the_image_user_can_create_the_launchers_folders(first):
    # Before 2.3 KFP mounted no scratch volumes: its launcher made /minio/... (or /gcs, /s3) on the
    # image's own file system, as the image's user.
    from rehearsal.cli import DEFAULT_IMAGE
    from rehearsal.pod import podman, podman_env

    made = subprocess.run([podman(), "run", "--rm", "--network=none", DEFAULT_IMAGE, "sh", "-c",
                           "id -u && mkdir -p /minio/mlpipeline/a /gcs/b/a /s3/b/a"], env=podman_env(), capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "10001"


def test_the_pushed_savedmodel_answers_saved_model_cli_on_a_png(first, workdir, data_dir, tmp_path):
    _, summary = first
    model_dir = workdir / "serving" / MODEL_NAME / summary.pushed_version
    image = next((data_dir / "humans").iterdir())
    batch = tmp_path / "image_bytes.npy"
    np.save(batch, np.array([image.read_bytes()], dtype=object), allow_pickle=True)
    ran = subprocess.run([SAVED_MODEL_CLI, "run", "--dir", str(model_dir), "--tag_set", "serve", "--signature_def",
                          "serving_images", "--inputs", f"image_bytes={batch}"], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert re.search(r"Result for output key class_name:\s*\[b'(horses|humans)'\]", ran.stdout), ran.stdout[-2000:]


def test_the_report_is_written_by_the_report_task_as_one_html_page(first, workdir):
    _, summary = first
    page = open(summary.report).read()
    assert summary.report == str(workdir / "report.html")
    assert page.lstrip().lower().startswith("<!doctype html") and "Kubeflow Pipelines" in page


def test_an_unchanged_rehearsal_reuses_the_cache_and_pushes_nothing(first, workdir, data_dir):
    # The Pusher writes no file when it pushes nothing: its empty pushed_model folder is no object in the
    # store, and the RunReport downloading it gets nothing, as on KFP.
    result, summary = rehearse(workdir, data_dir)
    assert result.returncode == 0, result.stdout[-6000:]
    ran = states(summary)
    assert all(ran[task] == "cached" for task in TRAINING), ran
    assert ran["InputFingerprints"] == ran["ServingBaseline"] == "ran"  # never cached: they read volumes
    assert summary.pushed is False and "already serving" in summary.push_note
    assert served(workdir) == [first[1].pushed_version]
    assert summary.report is not None


@pytest.fixture(scope="module")
def added_images(first, data_dir, horse_or_human_dir):
    more = chosen_images(str(horse_or_human_dir), DEFAULT_GROUP_PATTERN, FIRST_SUBJECTS + ADDED_SUBJECTS, VIEWS)
    for relative in more:
        if not (data_dir / relative).exists():
            shutil.copy2(horse_or_human_dir / relative, data_dir / relative)
    return more


@pytest.fixture(scope="module")
def out_of_memory(workdir, data_dir, added_images):
    """Images added, and the Trainer's pod limited to 0.4 G: TensorFlow and the base model alone need more."""
    return rehearse(workdir, data_dir, "--memory-limit", "Trainer=0.4")


def test_a_trainer_over_its_memory_limit_fails_the_run_naming_the_task_its_status_and_its_log(first, workdir, out_of_memory):
    result, summary = out_of_memory
    assert result.returncode == 1
    assert summary.status == "failed"
    assert summary.failed_task.name == "Trainer" and summary.failed_task.exit_code == 137
    assert summary.failed_task.reason.startswith("OOMKilled"), summary.failed_task
    assert "error: rehearsal failed: Trainer: the pod exited with code 137" in result.stdout
    assert "its log (" in result.stdout and "ends:" in result.stdout
    ran = states(summary)
    assert all(ran[task] == "ran" for task in TRAINING[:-1]), ran  # the new images were ingested and transformed
    assert all(ran[task] == "not run" for task in AFTER_TRAINER), ran  # Argo starts a task only after its upstream succeeded
    assert summary.pushed is None and served(workdir) == [first[1].pushed_version]
    assert summary.report is None and not (workdir / "report.html").exists()


def test_the_rerun_with_the_limit_restored_reuses_what_completed_and_trains_on_the_added_images(
        first, workdir, data_dir, added_images, out_of_memory):
    result, summary = rehearse(workdir, data_dir)
    assert result.returncode == 0, result.stdout[-6000:]
    assert summary.images == len(added_images)
    ran, failed_run = states(summary), executions(out_of_memory[1])
    for task in TRAINING[:-1]:  # KFP's cache: the failed run's completed tasks, reused as they were
        assert ran[task] == "cached" and executions(summary)[task] == failed_run[task], (task, ran)
    assert ran["Trainer"] == "ran"
    assert summary.baseline.has_baseline is True
    assert summary.baseline.version == float(first[1].pushed_version)
    assert set(summary.eval_accuracy) == {"candidate", "baseline"}


def test_a_class_the_schema_does_not_know_is_refused_by_the_data_gate_and_nothing_after_it_starts(
        first, workdir, data_dir, added_images):
    before = served(workdir)
    zebras = data_dir / "zebras"
    zebras.mkdir()
    for image in sorted((data_dir / "horses").iterdir()):  # every subject: one alone would stay in train
        shutil.copy2(image, zebras / image.name.replace("horse", "zebra"))
    try:
        refused, summary = rehearse(workdir, data_dir)
    finally:
        shutil.rmtree(zebras)

    assert refused.returncode == 1
    assert summary.failed_task.name == "DataValidationGate" and summary.failed_task.exit_code != 0
    assert "zebras" in refused.stdout and "update the schema in schemas/" in refused.stdout  # the log's last lines
    assert all(states(summary)[task] == "not run" for task in ("Transform", "Trainer") + AFTER_TRAINER)
    # The drift gate's pod had started beside the data gate's and ran to its end (Argo's failFast): the data
    # gate's pod, which only reads the anomalies, ended first, so its stop is the run's.
    assert states(summary)["DriftGate"] in ("ran", "failed"), states(summary)
    assert served(workdir) == before


def test_once_fixed_the_run_comes_from_the_cache_and_a_candidate_below_the_bar_is_refused_inside_the_containers(
        first, workdir, data_dir, added_images):
    # The folder as before the refused run: ingestion to Transform are cache hits. Zero epochs: the head
    # keeps its random weights, so the Trainer runs and the gate refuses its model.
    before = served(workdir)
    result, summary = rehearse(workdir, data_dir, "--epochs", "0")
    assert result.returncode == 0, result.stdout[-6000:]
    assert all(states(summary)[task] == "cached" for task in TRAINING[:-1]), states(summary)
    assert states(summary)["Trainer"] == "ran"
    assert summary.blessed is False
    assert any("accuracy" in failure for failure in summary.blessing_failures), summary.blessing_failures
    assert summary.pushed is False
    assert served(workdir) == before


@pytest.fixture(scope="module")
def three_classes(rps_clips, tmp_path_factory):
    """rock-paper-scissors with its config's grouping (clips), a few frames of five clips, one quick epoch,
    as KFP 2.5.0 (Kubeflow 1.10's backend) with logs not published: the other setting of each."""
    from test_three_classes import CLIPS

    workdir = tmp_path_factory.mktemp("kubeflow-rehearsal-rps")
    with open(os.path.join(REPO_ROOT, "configs", "rock-paper-scissors.yaml")) as handle:
        config = yaml.safe_load(handle)
    config.update(epochs=1, fine_tune_blocks=0, accuracy_threshold=0.0, class_recall_threshold=0.0)
    config_path = workdir / "rps-quick.yaml"
    config_path.write_text(yaml.safe_dump(config))
    data = rps_clips(CLIPS)
    result, summary = rehearse(workdir, data, "--config", str(config_path), "--schema",
                               os.path.join(REPO_ROOT, "schemas", "rock_paper_scissors", "schema.pbtxt"),
                               "--views", "6", "--kfp-version", "2.5.0", "--no-publish-logs")
    return workdir, data, result, summary


def test_three_classes_run_every_task_as_kfp_2_5_and_push_a_three_class_model(three_classes, tmp_path):
    workdir, data, result, summary = three_classes
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert summary.kfp_backend == "2.5.0" and summary.publish_logs is False
    assert set(states(summary).values()) == {"ran"}, states(summary)
    assert not [key for key in object_keys(workdir) if "executor-logs" in key]
    assert summary.pushed is True
    model_dir = workdir / "serving" / MODEL_NAME / summary.pushed_version
    images = [next((data / name).iterdir()).read_bytes() for name in ("paper", "rock", "scissors")]
    batch = tmp_path / "image_bytes.npy"
    np.save(batch, np.array(images, dtype=object), allow_pickle=True)
    ran = subprocess.run([SAVED_MODEL_CLI, "run", "--dir", str(model_dir), "--tag_set", "serve", "--signature_def",
                          "serving_images", "--inputs", f"image_bytes={batch}"], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-3000:]
    names = re.search(r"Result for output key class_names:\s*\[\[([^\]]*)\]", ran.stdout)
    assert names and names.group(1).split() == ["b'paper'", "b'rock'", "b'scissors'"], ran.stdout[-2000:]
