"""pipeline/cli/main.py: foreseeable mistakes end with exit code 2 and one clear line, before any heavy work."""
import json

import pytest

import pipeline.local.runner  # noqa: F401  (heavy TFX imports and their warnings happen here, not in captured output)
from components.schema_contract import schema_text
from pipeline.cli.main import main
from pipeline.run_record.record import RunRecord


@pytest.fixture(autouse=True)
def no_data_dir_env(monkeypatch):
    monkeypatch.delenv("DATA_DIR", raising=False)


def one_error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: ")
    return err[0]


def test_run_on_a_missing_data_dir_exits_2_naming_it(tmp_path, capsys):
    missing = tmp_path / "no-such-images"

    code = main(["run", "--data-dir", str(missing), "--output-dir", str(tmp_path / "out")])

    assert code == 2
    line = one_error_line(capsys)
    assert str(missing) in line and "does not exist" in line


def test_run_on_a_one_class_folder_stops_before_any_component(small_image_set, tmp_path, capsys):
    data = small_image_set(classes=("cats",))
    out = tmp_path / "out"

    code = main(["run", "--data-dir", str(data), "--output-dir", str(out)])

    assert code == 2
    assert "found 1 class folder(s) with images (cats)" in one_error_line(capsys)
    assert not (out / "metadata.sqlite").exists() and not (out / "pipeline_root").exists()


def test_a_serving_dir_that_is_a_file_stops_before_any_component(small_image_set, tmp_path, capsys):
    serving, out = tmp_path / "serving", tmp_path / "out"
    serving.write_text("not a folder")

    code = main(["run", "--data-dir", str(small_image_set()), "--output-dir", str(out), "--serving-dir", str(serving)])

    assert code == 2
    line = one_error_line(capsys)
    assert str(serving) in line and "is a file, not a folder" in line
    assert not (out / "metadata.sqlite").exists() and not (out / "pipeline_root").exists()


def test_a_preflight_error_replaces_the_previous_runs_summary_and_rejected_list(tmp_path, capsys):
    missing, out = tmp_path / "no-such-images", tmp_path / "out"
    out.mkdir()
    (out / "run_summary.json").write_text('{"status": "succeeded", "error": null}')  # an earlier run's
    (out / "rejected_files.csv").write_text("file,reason\nold.txt,an earlier run's\n")

    assert main(["run", "--data-dir", str(missing), "--output-dir", str(out)]) == 2

    assert "does not exist" in one_error_line(capsys)
    record = RunRecord.read(str(out / "run_summary.json"))
    assert record.status == "failed" and str(missing) in record.error and "DataError" in record.error
    assert not (out / "rejected_files.csv").exists()


def test_a_summary_that_cannot_be_built_does_not_hide_the_runs_error(tmp_path, capsys):
    missing, out = tmp_path / "no-such-images", tmp_path / "out"
    out.mkdir()
    (out / "metadata.sqlite").write_bytes(b"not an ML Metadata database\n" * 64)

    assert main(["run", "--data-dir", str(missing), "--output-dir", str(out)]) == 2

    assert str(missing) in one_error_line(capsys)
    record = RunRecord.read(str(out / "run_summary.json"))
    assert record.status == "failed" and str(missing) in record.error
    assert record.record_error


def test_run_with_a_bad_flag_value_exits_2(small_image_set, tmp_path, capsys):
    code = main(["run", "--data-dir", str(small_image_set()), "--output-dir", str(tmp_path), "--eval-fraction", "1.5"])

    assert code == 2
    assert "eval_fraction must be between 0 and 1" in one_error_line(capsys)
    assert not (tmp_path / "metadata.sqlite").exists()


def test_an_image_size_inception_cannot_take_exits_2_before_any_work(small_image_set, tmp_path, capsys):
    code = main(["run", "--data-dir", str(small_image_set()), "--output-dir", str(tmp_path), "--image-size", "32"])

    assert code == 2
    assert "image_size must be a whole number of pixels from 75 to 512 (the least InceptionV3 takes is 75), got 32" in one_error_line(capsys)
    assert not (tmp_path / "metadata.sqlite").exists()


def test_run_with_an_unknown_yaml_setting_exits_2_naming_it(tmp_path, capsys):
    settings = tmp_path / "run.yaml"
    settings.write_text("epohcs: 3\n")

    assert main(["run", "--config", str(settings), "--data-dir", str(tmp_path)]) == 2
    line = one_error_line(capsys)
    assert str(settings) in line and "epohcs" in line


def test_make_schema_writes_the_contract_for_the_classes(tmp_path, capsys):
    code = main(["make-schema", "--name", "pets", "--classes", "dogs", "cats", "--schema-dir", str(tmp_path)])

    assert code == 0
    written = tmp_path / "pets" / "schema.pbtxt"
    assert written.read_text() == schema_text(["cats", "dogs"])
    assert json.loads(capsys.readouterr().out) == {"schema": str(written), "classes": ["cats", "dogs"]}


def test_make_schema_takes_classes_from_a_data_dir(small_image_set, tmp_path):
    data = small_image_set(classes=("zebras", "apes"))

    assert main(["make-schema", "--name", "zoo", "--data-dir", str(data), "--schema-dir", str(tmp_path)]) == 0
    assert (tmp_path / "zoo" / "schema.pbtxt").read_text() == schema_text(["apes", "zebras"])


def test_make_schema_never_overwrites_a_reviewed_schema_without_force(tmp_path, capsys):
    existing = tmp_path / "pets" / "schema.pbtxt"
    existing.parent.mkdir()
    existing.write_text("# reviewed by hand\n")
    args = ["make-schema", "--name", "pets", "--classes", "cats", "dogs", "--schema-dir", str(tmp_path)]

    assert main(args) == 2
    assert str(existing) in one_error_line(capsys) and existing.read_text() == "# reviewed by hand\n"
    assert main(args + ["--force"]) == 0
    assert existing.read_text() == schema_text(["cats", "dogs"])


def test_force_push_without_a_reason_exits_2_before_any_work(small_image_set, tmp_path, capsys):
    out = tmp_path / "out"

    assert main(["run", "--data-dir", str(small_image_set()), "--output-dir", str(out), "--force-push"]) == 2

    assert "force_push needs a reason" in one_error_line(capsys)
    assert not out.exists()


def test_the_summary_gives_what_the_drift_gate_added_to_the_run_and_says_when_it_is_above_a_tenth(record, capsys):
    from pipeline.cli.main import _print_run_summary
    from pipeline.run_record.record import DriftCheckRecord, DriftRecord

    record.seconds = 45.0
    record.drift = DriftRecord(verdict="accepted", reference_version=3, seconds=13.9, accepted_reason="hands now",
                               checks=[DriftCheckRecord("format_share", 1.0, 0.25, "drift", detail="largest change: png 1.00 -> 0.00")])
    _print_run_summary(record, "/runs/1/run_summary.json")
    out = capsys.readouterr().out
    assert "drift gate: accepted (against serving version 3; 13.9 s, adding 31% to the run)" in out
    assert "the gate added 31% to the run, above the 10% target" in out
    assert "format_share: 1.0 > 0.25 (largest change: png 1.00 -> 0.00)" in out and "drift accepted: hands now" in out

    record.seconds, record.drift = 213.0, DriftRecord(verdict="no reference", why="nothing is serving yet", seconds=12.4)
    _print_run_summary(record, "/runs/1/run_summary.json")
    out = capsys.readouterr().out
    assert "drift gate: no reference (nothing is serving yet; 12.4 s, adding 6% to the run)" in out and "target" not in out

    # Beside Transform, as the default runner and Kubeflow run it: only the seconds it ran alone count.
    record.seconds, record.drift = 79.0, DriftRecord(verdict="no reference", why="nothing is serving yet", seconds=12.1,
                                                     alone_seconds=2.6)
    _print_run_summary(record, "/runs/1/run_summary.json")
    out = capsys.readouterr().out
    assert ("drift gate: no reference (nothing is serving yet; 12.1 s (9.5 s of it beside other components), "
            "adding 3% to the run)") in out and "target" not in out
