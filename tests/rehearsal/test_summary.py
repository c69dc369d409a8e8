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


def test_each_pods_time_is_split_into_set_up_work_and_teardown_by_the_entrypoints_lines(tmp_path, capsys):
    from pipeline.kubeflow.entrypoint import WORK_BEGAN, WORK_ENDED
    from rehearsal.run import _phases

    log = tmp_path / "pod.log"
    log.write_text(f"beam: in memory\n{WORK_BEGAN}1000.500\nTrainer: epoch 1/1\n{WORK_ENDED}1027.000\npeak memory (MB): 1500\n")
    phases = _phases(str(log), started_at=986.0, ended_at=1029.5)
    assert phases == {"setup_seconds": 14.5, "work_seconds": 26.5, "teardown_seconds": 2.5}
    # A pod killed before its work ended (out of memory, a refused gate) has set-up alone.
    log.write_text(f"{WORK_BEGAN}1000.500\nKilled\n")
    assert _phases(str(log), 986.0, 1003.0) == {"setup_seconds": 14.5, "work_seconds": None, "teardown_seconds": None}

    record = RehearsalRecord(status="succeeded", error=None, run_id="run-2", seconds=60.0, images=50,
                             pipeline_root="minio://mlpipeline/v2/artifacts", pipeline_root_source="the run's",
                             publish_logs=True, kfp_backend="2.17.0",
                             tasks=[TaskResult("Trainer", "ran", 43.5, launcher_seconds=1.2, **phases)])
    write_summary(record, str(tmp_path))
    assert "(set-up 14 s, work 26 s, teardown 2 s; launcher 1 s)" in capsys.readouterr().out
    assert RehearsalRecord.read(str(tmp_path / SUMMARY_FILE)) == record
