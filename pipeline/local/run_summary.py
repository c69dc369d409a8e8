"""OUTPUT/run_summary.json of a local run: the run's own facts around what its artifacts say."""
from __future__ import annotations

import json
import os
import shutil
from typing import Optional

from components import constants
from pipeline.run_record.artifacts import artifact_summary, collect_executions, first_uri


def build_summary(config, status: str, error: Optional[str], data_source: dict, seconds: Optional[dict] = None,
                  since_ms: int = 0) -> dict:
    """seconds: wall time per component as measured by the progress reporter (more exact than MLMD's).
    since_ms: when this run started; an earlier run in the same ML Metadata store is never reported as this one."""
    rows = collect_executions(config.metadata_path, config.pipeline_name, since_ms)
    for row in rows:
        if seconds and row["state"] == "ran" and row["component"] in seconds:
            row["seconds"] = seconds[row["component"]]
    summary = {
        "status": status,
        "error": error,
        "data": data_source,
        "pipeline_root": config.pipeline_root,
        "metadata": config.metadata_path,
        "serving_dir": config.serving_path,
        "components": [{k: r[k] for k in ("component", "state", "seconds")} for r in rows],
    }
    summary.update(artifact_summary(rows))
    examples_uri = first_uri(rows, "examples")
    csv_path = os.path.join(examples_uri, constants.REJECTED_FILES_CSV) if examples_uri else ""
    if os.path.exists(csv_path):
        shutil.copy(csv_path, os.path.join(config.output_dir, constants.REJECTED_FILES_CSV))
        summary["rejected_files_csv"] = os.path.join(config.output_dir, constants.REJECTED_FILES_CSV)
    return summary


def write_summary(summary: dict, path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(summary, handle, indent=2)
    os.replace(tmp, path)
