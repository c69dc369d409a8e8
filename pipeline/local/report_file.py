"""OUTPUT/report.html for a local run: the run summary plus the artifacts ML Metadata lists for the last run."""
from __future__ import annotations

import json
import os
from typing import List, Optional

from pipeline.config import ConfigError, PipelineConfig
from pipeline.report.builder import RunArtifacts, build_report
from pipeline.report.render import write_report
from pipeline.local.run_summary import build_record
from pipeline.run_record.artifacts import collect_executions, first_uri
from pipeline.run_record.record import RunRecord

REPORT_FILE = "report.html"


def _trainer_settings(rows: List[dict]) -> Optional[dict]:
    """The Trainer's custom_config, as TFX recorded it with the execution that produced the model_run."""
    for row in rows:
        properties = row["execution"].custom_properties
        if row["outputs"].get("model_run") and "custom_config" in properties:
            return json.loads(properties["custom_config"].string_value or "null")
    return None


def run_artifacts(metadata_path: str, pipeline_name: str) -> RunArtifacts:
    rows = collect_executions(metadata_path, pipeline_name)
    return RunArtifacts(
        examples=first_uri(rows, "examples"),
        model=first_uri(rows, "model"),
        model_run=first_uri(rows, "model_run"),
        evaluation=first_uri(rows, "evaluation"),
        trainer_settings=_trainer_settings(rows),
    )


def write_run_report(config: PipelineConfig, record: RunRecord) -> str:
    """Writes OUTPUT/report.html for the run `record` describes; returns its path."""
    artifacts = run_artifacts(config.metadata_path, config.pipeline_name)
    return write_report(build_report(record, artifacts), os.path.join(config.output_dir, REPORT_FILE))


def regenerate_report(output_dir: str) -> str:
    """`transfer-pipeline report OUTPUT_DIR`: the report of the last run in OUTPUT_DIR, from its summary and ML Metadata."""
    config = PipelineConfig(output_dir=output_dir).absolute()
    if not os.path.exists(config.metadata_path) and not os.path.exists(config.summary_path):
        raise ConfigError(
            f"{output_dir}: no run here (neither {os.path.basename(config.metadata_path)} nor "
            f"{os.path.basename(config.summary_path)}); pass the --output-dir of a `transfer-pipeline run`"
        )
    if os.path.exists(config.summary_path):
        record = RunRecord.read(config.summary_path)
    else:  # the run was killed before it wrote its summary: rebuild what ML Metadata knows
        record = build_record(config, "unknown (no run_summary.json)", None, {})
    return write_run_report(config, record)
