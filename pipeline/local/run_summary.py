"""OUTPUT/run_summary.json of a local run: the run's own facts around what its artifacts say."""
from __future__ import annotations

import os
import shutil
from typing import Optional

from components import constants
from pipeline.run_record.artifacts import collect_executions, first_uri, read_drift, read_run, read_spans
from pipeline.run_record.record import RunRecord


def build_record(config, status: str, error: Optional[str], data_source: Optional[dict],
                 seconds: Optional[dict] = None, since_ms: int = 0) -> RunRecord:
    """seconds: wall time per component as measured by the progress reporter (more exact than MLMD's).
    since_ms: when this run started; an earlier run in the same ML Metadata store is never reported as this one."""
    rows = collect_executions(config.metadata_path, config.pipeline_name, since_ms)
    for row in rows:
        if seconds and row["state"] == "ran" and row["component"] in seconds:
            row["seconds"] = seconds[row["component"]]
    record = read_run(rows, status, error=error, output_dir=config.output_dir, pipeline_root=config.pipeline_root,
                      metadata=config.metadata_path, serving_dir=config.serving_path)
    record.data.source = data_source or {}
    record.spans = read_spans(rows)
    record.drift = read_drift(rows, config.pipeline_root)
    examples_uri = first_uri(rows, "examples")
    csv_path = os.path.join(examples_uri, constants.REJECTED_FILES_CSV) if examples_uri else ""
    if os.path.exists(csv_path):
        record.data.rejected_files_csv = os.path.join(config.output_dir, constants.REJECTED_FILES_CSV)
        shutil.copy(csv_path, record.data.rejected_files_csv)
    return record
