"""The whole pipeline on the real images, end to end on real components.

One output directory is shared by the runs, as a user's would be: the first
run (no baseline, a fixture) then, in any order, an unchanged re-run, a
deliberately worse candidate and a candidate below the absolute threshold.
Each test needs only the first run; counts come from the data folder itself.
"""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from components.ingestion.folder_scan import scan_image_folder
import pipeline_runs
from pipeline_runs import REPO_ROOT, states, versions
from pipeline.config import DEFAULT_GROUP_PATTERN
from pipeline.run_record.metadata import executions_by_node, open_readonly

pytestmark = pytest.mark.e2e


def run_cli(*args, **how):
    """The installed console script in a user's bare shell; a failure fails the test."""
    return pipeline_runs.run_cli(*args, console_script=True, check=True, **how)


def run_pipeline(data_dir, output_dir, *flags, **how):
    return pipeline_runs.run_pipeline(data_dir, output_dir, *flags, console_script=True, check=True, **how)

SAVED_MODEL_CLI = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")


# Lines a normal run must not print: TensorFlow's CUDA/CPU notices, tf.data's end-of-data fragments,
# tracebacks, warnings.
NOISE = re.compile(r"cuDNN|cuFFT|cuBLAS|TensorRT|cuda|cpu_feature_guard|oneDNN|IteratorGetNext|Traceback|"
                   r"Exception ignored|Error|warning", re.IGNORECASE)










@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("pipeline")


@pytest.fixture(scope="module")
def run_temp_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("first-run-tmp")


@pytest.fixture(scope="module")
def first_run(horse_or_human_dir, workspace, run_temp_dir):
    summary, result = run_pipeline(horse_or_human_dir, workspace, "--epochs", "1", env={"TMPDIR": str(run_temp_dir)})
    return summary, result


def test_first_run_ingests_every_image_split_by_subject(first_run, horse_or_human_dir):
    summary, result = first_run
    scan = scan_image_folder(str(horse_or_human_dir), DEFAULT_GROUP_PATTERN)  # whatever this copy holds
    assert summary.status == "succeeded", summary.error
    assert summary.data.classes == ["horses", "humans"]
    assert summary.data.total_examples == len(scan.candidates)
    assert sum(sum(by_class.values()) for by_class in summary.data.examples.values()) == len(scan.candidates)
    assert set(summary.data.examples) == {"train", "eval"}
    assert summary.data.groups_in_both_splits == []
    assert summary.data.anomalies == {}
    assert [row["file"] for row in summary.data.rejected_files] == [r.path for r in scan.rejected]
    assert "[1/11]" in result.stdout and "[11/11]" in result.stdout  # component n of m progress
    # A data set this size runs every component's Beam work in-process, and the run says so.
    assert f"beam: in-process (in_memory): {len(scan.candidates)} images" in result.stdout
    assert summary.beam_args == ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


def test_no_beam_component_packages_code_into_the_temp_dir(first_run, run_temp_dir):
    # TFX would copy its install (49 MB) and build an sdist of it for every Beam component, and Beam
    # copy that again to stage it, never removing either; a local runner needs none of it.
    assert first_run[0].status == "succeeded"
    assert [str(path) for path in run_temp_dir.rglob("*.tar.gz")] == []
    assert [str(path) for path in run_temp_dir.rglob("tfx_ephemeral*")] == []
    # Nor is any pipeline first offered to Beam's Prism runner, whose failed download left a folder each time.
    assert [str(path) for path in run_temp_dir.glob("beam-temp*")] == []


def test_the_drift_gate_ran_beside_transform_and_the_trainer_after_both(first_run, workspace):
    assert first_run[0].status == "succeeded"
    store = open_readonly(str(workspace / "metadata.sqlite"))
    run = max(store.get_contexts_by_type("pipeline_run"), key=lambda context: context.create_time_since_epoch)
    executions = dict(executions_by_node(store, run))
    drift, transform, trainer = (executions[name] for name in ("DriftGate", "Transform", "Trainer"))
    # As ML Metadata recorded them: each registered (RUNNING) before the other was published.
    assert drift.create_time_since_epoch < transform.last_update_time_since_epoch
    assert transform.create_time_since_epoch < drift.last_update_time_since_epoch
    assert trainer.create_time_since_epoch >= max(drift.last_update_time_since_epoch,
                                                  transform.last_update_time_since_epoch)


def test_a_normal_run_prints_progress_and_summary_and_nothing_that_looks_like_an_error(first_run):
    _, result = first_run
    assert [line for line in (result.stdout + result.stderr).splitlines() if NOISE.search(line)] == []
    assert "Summary" in result.stdout and "report: " in result.stdout


def test_first_run_without_baseline_is_blessed_and_pushed(first_run, workspace):
    summary, _ = first_run
    assert summary.gate.baseline.startswith("nothing is serving")
    accuracy = summary.model.metrics["candidate"]["overall"]["accuracy"]
    assert accuracy >= 0.95, f"eval accuracy {accuracy} on the subject-wise split"
    assert summary.gate.blessed is True
    assert versions(workspace / "serving") == [os.path.basename(summary.gate.pushed)]
    # Every gated figure with its 95% interval and the images behind it, in the summary and the push record.
    overall = next(c for c in summary.gate.noise["checks"] if c["slice"] == "overall")
    assert overall["examples"] == sum(summary.data.examples["eval"].values())
    assert overall["lower"] <= accuracy <= overall["upper"] <= 1.0 and overall["change"] is None
    assert all(len(scores["recall_interval"]) == 2 for scores in summary.model.per_class.values())
    record = json.loads((workspace / "serving" / versions(workspace / "serving")[0] / "push_record.json").read_text())
    assert record["eval_figures"]["overall"] == {k: overall[k] for k in ("value", "lower", "upper", "examples")}


def test_pushed_model_has_both_signatures_and_agrees_with_predict(first_run, workspace, horse_or_human_dir, tmp_path):
    summary, _ = first_run
    model_dir = summary.gate.pushed
    shown = subprocess.run([SAVED_MODEL_CLI, "show", "--dir", model_dir, "--all"], capture_output=True, text=True, check=True)
    assert "signature_def['serving_default']" in shown.stdout
    assert "signature_def['serving_images']" in shown.stdout

    image = horse_or_human_dir / "humans" / "human02-05.png"
    batch = tmp_path / "image_bytes.npy"
    np.save(batch, np.array([image.read_bytes()], dtype=object), allow_pickle=True)
    ran = subprocess.run(
        [SAVED_MODEL_CLI, "run", "--dir", model_dir, "--tag_set", "serve", "--signature_def", "serving_images",
         "--inputs", f"image_bytes={batch}"],
        capture_output=True, text=True, check=True,
    )
    cli_class = re.search(r"Result for output key class_name:\s*\[b'(\w+)'\]", ran.stdout).group(1)
    cli_probability = float(re.search(r"Result for output key probability:\s*\[([0-9.e-]+)\]", ran.stdout).group(1))

    predicted = json.loads(run_cli("predict", "--model-dir", str(workspace / "serving"), str(image)).stdout.strip())
    assert predicted["class"] == cli_class == "humans"
    assert predicted["probability"] == pytest.approx(cli_probability, abs=1e-5)  # P(humans), the predicted class
    assert set(predicted["probabilities"]) == {"horses", "humans"}
    assert predicted["probabilities"]["humans"] == pytest.approx(predicted["probability"], abs=1e-6)
    assert sum(predicted["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


def test_unchanged_rerun_hits_the_cache_and_pushes_nothing(first_run, horse_or_human_dir, workspace):
    summary, _ = run_pipeline(horse_or_human_dir, workspace, "--epochs", "1")
    ran = states(summary)
    for component in ("ImageFolderExampleGen", "StatisticsGen", "Transform", "Trainer"):
        assert ran[component] == "cached", ran
    assert "already serving" in summary.gate.baseline  # never compared with itself
    assert summary.gate.pushed == "not pushed" and "already serving" in summary.gate.push_note
    assert len(versions(workspace / "serving")) == 1


def test_worse_candidate_is_not_blessed_and_serving_keeps_the_first_model(first_run, horse_or_human_dir, workspace):
    first_version = versions(workspace / "serving")
    # Zero epochs: the head keeps its random weights. The absolute bound is
    # bounds are lowered to 0 so that only the comparison with the serving model can refuse it.
    summary, _ = run_pipeline(
        horse_or_human_dir, workspace, "--epochs", "0", "--accuracy-threshold", "0", "--class-recall-threshold", "0"
    )
    assert summary.gate.baseline.startswith("serving version")
    assert summary.gate.blessed is False
    assert any("accuracy" in failure and "change" in failure for failure in summary.gate.failures)
    assert summary.gate.pushed == "not pushed"
    assert versions(workspace / "serving") == first_version
    baseline_accuracy = summary.model.metrics["baseline"]["overall"]["accuracy"]
    assert summary.model.metrics["candidate"]["overall"]["accuracy"] < baseline_accuracy


def test_a_candidate_worse_beyond_noise_is_refused_even_within_the_tolerated_drop(first_run, horse_or_human_dir,
                                                                                 workspace):
    first_version = versions(workspace / "serving")
    # The untrained head again, now with every point threshold waived (no floor, any drop tolerated):
    # TFMA's checks pass, and the comparison policy refuses what the paired interval shows is worse.
    summary, _ = run_pipeline(
        horse_or_human_dir, workspace, "--epochs", "0", "--accuracy-threshold", "0", "--class-recall-threshold", "0",
        "--max-accuracy-drop", "1", "--max-class-recall-drop", "1",
    )
    assert summary.gate.blessed is False and summary.gate.pushed == "not pushed"
    assert summary.gate.noise["policy"] == "not_worse"
    overall = next(c for c in summary.gate.noise["checks"] if c["slice"] == "overall")
    assert overall["change"]["verdict"] == "worse beyond noise" and overall["change"]["upper"] < 0
    assert any("worse than the serving model's beyond noise" in failure for failure in summary.gate.failures)
    assert versions(workspace / "serving") == first_version


def test_candidate_below_absolute_threshold_is_not_pushed(first_run, horse_or_human_dir, workspace):
    fresh_serving = workspace / "serving-empty"
    summary, _ = run_pipeline(horse_or_human_dir, workspace, "--epochs", "0", "--serving-dir", str(fresh_serving))
    assert summary.gate.baseline.startswith("nothing is serving")
    assert summary.gate.blessed is False
    assert any("accuracy" in failure for failure in summary.gate.failures)
    assert summary.gate.pushed == "not pushed"
    assert versions(fresh_serving) == []
