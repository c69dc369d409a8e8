"""pipeline/run_record/record.py: the run summary as one typed tree that round-trips, and older files still load."""
import json

from pipeline.run_record.record import (SCHEMA_VERSION, ComponentRun, ConfusionMatrix, DataRecord, DriftCheckRecord,
                                        DriftRecord, GateRecord, ModelRecord,
                                        RunRecord, SpansRecord, WarmStartRecord)


def test_a_summary_of_the_release_before_the_record_loads_into_its_fields(summary_v1):
    record = RunRecord.from_json(json.dumps(summary_v1))

    assert record.schema_version == SCHEMA_VERSION and record.status == "succeeded"
    assert record.components[1] == ComponentRun("Trainer", "ran", 111.0)
    assert record.data.source == {"source": "given", "data_dir": "/data/horse-or-human"}
    assert record.data.classes == ["horses", "humans"] and record.data.images("eval") == 183
    assert record.data.rejected_files == [{"file": "README.md", "reason": "not an image file (.md); ignored"}]
    assert record.model.uri == "/runs/1/pipeline_root/Trainer/model/7"
    assert record.model.accuracy == 0.9617 and record.model.overall("baseline")["accuracy"] == 0.95
    assert record.model.confusion_matrix == ConfusionMatrix(["horses", "humans"], [[87, 3], [4, 89]])
    assert record.gate.blessed is True and record.gate.why == "meets every threshold"
    assert record.gate.baseline == "serving version 1700000000 from /runs/1/serving"
    assert record.gate.pushed == "/runs/1/serving/1700000100" and record.gate.failures == []
    assert record.seconds == 231.0


def test_the_first_file_of_a_running_run_and_a_failed_one_of_version_1_load():
    running = RunRecord.from_json(json.dumps({"status": "running", "error": None, "started": "2026-11-30T10:00:00+0000",
                                              "pid": 4242, "output_dir": "/runs/1"}))
    failed = RunRecord.from_json(json.dumps({"status": "failed", "error": "DataError: no images",
                                             "data": {"source": "given", "data_dir": "/d"},
                                             "summary_error": "OperationalError: file is not a database"}))

    assert (running.status, running.pid, running.output_dir) == ("running", 4242, "/runs/1")
    assert running.gate == GateRecord() and running.model == ModelRecord()
    assert failed.record_error == "OperationalError: file is not a database" and failed.data.source["data_dir"] == "/d"
    assert failed.gate.blessed is None


def test_a_record_written_is_the_record_read_back_with_its_version_in_the_file(record, tmp_path):
    path = str(tmp_path / "run_summary.json")
    record.write(path)

    assert json.loads(open(path).read())["schema_version"] == SCHEMA_VERSION
    assert RunRecord.read(path) == record
    assert not (tmp_path / "run_summary.json.tmp").exists()


def test_keys_a_later_release_adds_are_left_out_not_fatal(record):
    later = json.loads(record.to_json())
    later["lineage"] = {"class_prior": 0.02}
    later["data"]["window_stats"] = {"newest": "span-3"}

    assert RunRecord.from_json(json.dumps(later)) == record


def test_the_drift_gates_checks_round_trip_and_a_summary_without_them_loads_with_none(record, summary_v1):
    assert "drift" not in json.loads(record.to_json())  # the gate did not run
    record.drift = DriftRecord(verdict="drift", reference_version=3, seconds=4.2, newest_span="span-3", checks=[
        DriftCheckRecord("class_prior", 0.02, 0.25, "ok", detail="largest change: horses 0.50 -> 0.52"),
        DriftCheckRecord("content_mmd2", 0.19, 0.03, "drift", p_value=0.003),
        DriftCheckRecord("format_share", 1.0, 0.25, "drift")])

    written = json.loads(record.to_json())["drift"]
    assert written["verdict"] == "drift" and written["checks"][1]["p_value"] == 0.003
    assert RunRecord.from_json(record.to_json()) == record
    assert [check.name for check in record.drift.failed] == ["content_mmd2", "format_share"]
    assert RunRecord.from_json(json.dumps(summary_v1)).drift is None  # a release before the gate


def test_where_a_failed_run_stopped_and_what_it_never_reached():
    record = RunRecord(status="failed", components=[ComponentRun("ImageFolderExampleGen", "ran", 2.0),
                                                    ComponentRun("Trainer", "failed", 9.0)],
                       planned_components=["ImageFolderExampleGen", "Trainer", "Evaluator", "Pusher"])

    assert record.stopped_at == "Trainer" and record.not_reached == ["Evaluator", "Pusher"]
    assert RunRecord(status="failed").stopped_at == "before the first component"
    assert RunRecord(status="succeeded", data=DataRecord(examples={"eval": {"a": 2, "b": 3}})).stopped_at is None


def test_the_spans_a_run_read_round_trip_as_their_own_record(record, tmp_path):
    record.spans = SpansRecord(window=["span-9", "span-10"], newest="span-10",
                               images={"span-9": {"horses": 40, "humans": 0}, "span-10": {"horses": 35, "humans": 41}})
    path = str(tmp_path / "run_summary.json")
    record.write(path)

    assert json.loads(open(path).read())["spans"] == {
        "window": ["span-9", "span-10"], "newest": "span-10",
        "images": {"span-9": {"horses": 40, "humans": 0}, "span-10": {"horses": 35, "humans": 41}}}
    assert RunRecord.read(path) == record and RunRecord.read(path).spans.window == ["span-9", "span-10"]


def test_a_plain_folder_writes_no_spans_and_a_summary_without_them_loads_with_none(record, summary_v1):
    assert record.spans is None and "spans" not in json.loads(record.to_json())
    assert RunRecord.from_json(record.to_json()) == record
    assert RunRecord.from_json(json.dumps(summary_v1)).spans is None  # a release before spans


def test_warm_start_writes_the_version_alone_or_null_and_why_not_and_nothing_when_off(record):
    assert "warm_start" not in json.loads(record.to_json())  # warm start off

    record.warm_start = WarmStartRecord(from_version=4)
    assert json.loads(record.to_json())["warm_start"] == {"from_version": 4}
    assert RunRecord.from_json(record.to_json()) == record

    record.warm_start = WarmStartRecord(from_version=None, why_not="nothing is serving in /srv yet")
    assert json.loads(record.to_json())["warm_start"] == {"from_version": None, "why_not": "nothing is serving in /srv yet"}
    assert RunRecord.from_json(record.to_json()).warm_start.why_not == "nothing is serving in /srv yet"


def test_the_golden_judgement_travels_through_the_summary_and_is_absent_without_a_golden_set():
    from pipeline.run_record.record import GateRecord, GoldenRecord, RunRecord

    golden = GoldenRecord(examples=16, verdict="refused", candidate={"value": 0.25, "lower": 0.1, "upper": 0.5, "method": "jackknife"},
                          serving={"value": 0.875, "lower": 0.64, "upper": 0.96, "method": "jackknife"},
                          change={"value": -0.625, "lower": -0.9, "upper": -0.3, "verdict": "worse beyond noise"},
                          refusals=["[golden set] accuracy is worse than the serving model's beyond noise"])
    record = RunRecord(status="succeeded", gate=GateRecord(blessed=False, golden=golden))

    assert RunRecord.from_json(record.to_json()).gate.golden == golden
    assert golden.describe() == ("refused on 16 images: candidate 0.250 (0.100–0.500), serving model 0.875 (0.640–0.960), "
                                 "change -0.625 (-0.900 to -0.300, worse beyond noise)")
    assert "golden" not in json.loads(RunRecord(status="succeeded").to_json())["gate"]
