"""Makefile: `make clean` removes what runs leave behind and never a served model."""
import os
import subprocess

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_make_clean_removes_run_artifacts_and_keeps_every_served_model(tmp_path):
    run_files = ["demo/pipeline_root/Trainer/model/7/saved_model.pb", "demo/metadata.sqlite", "demo/run_summary.json",
                 "demo/rejected_files.csv", "demo/.run.lock", "demo/synthetic_images/circles/c01-0.png",
                 "metadata.sqlite", "run_summary.json"]
    served = ["demo/serving/1/saved_model.pb", "demo/serving/1/push_record.json", "serving/2/saved_model.pb",
              "serving/2/variables/variables.index"]
    for relative in run_files + served + ["notes.txt"]:
        path = tmp_path / "outputs" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")

    result = subprocess.run(["make", "-f", os.path.join(REPO_ROOT, "Makefile"), "clean"], cwd=tmp_path,
                            capture_output=True, text=True, check=True)

    left = {str(p.relative_to(tmp_path / "outputs")) for p in (tmp_path / "outputs").rglob("*") if p.is_file()}
    assert left == set(served) | {"notes.txt"}
    assert "kept served models: outputs/demo/serving" in result.stdout
    assert "kept served models: outputs/serving" in result.stdout
