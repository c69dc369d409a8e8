"""rehearsal/summary.py: the rehearsal's record is written and read back as one typed tree."""
from rehearsal.run import TaskResult
from rehearsal.summary import SUMMARY_FILE, BaselineSeen, FailedTask, RehearsalRecord, write_summary


def test_a_failed_rehearsal_is_read_back_as_written_and_printed_with_its_failed_task(tmp_path, capsys):
    record = RehearsalRecord(
        status="failed", error="task Trainer failed", run_id="run-1", seconds=84.2, images=50,
        pipeline_root="minio://mlpipeline/v2/artifacts", pipeline_root_source="the run's runtime_config.pipeline_root",
        publish_logs=True, kfp_backend="2.17.0",
        tasks=[TaskResult("ImageFolderExampleGen", "ran", 18.0, execution_id=3, peak_memory_mb=900.0, log="/l/1"),
               TaskResult("Trainer", "failed", 12.5, execution_id=9, log="/l/2", exit_code=137, reason="OOMKilled"),
               TaskResult("Evaluator", "not run")],
        failed_task=FailedTask("Trainer", 137, "OOMKilled", "/l/2"),
        baseline=BaselineSeen(False, None, "nothing is serving"),
    )
    write_summary(record, str(tmp_path))

    back = RehearsalRecord.read(str(tmp_path / SUMMARY_FILE))
    assert back == record
    assert back.states() == {"ImageFolderExampleGen": "ran", "Trainer": "failed", "Evaluator": "not run"}
    assert back.task("Trainer").exit_code == 137 and back.pushed is None and back.report is None
    printed = capsys.readouterr().out
    assert "failed: Trainer (exit code 137, OOMKilled); its log: /l/2" in printed
    assert "peak 0.90 GB" in printed and "blessed" not in printed
