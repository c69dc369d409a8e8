"""Runs the pipeline on this machine: TFX's BeamDagRunner (default) or LocalDagRunner.

Resolves the data and the schema, checks the data set before any heavy
work, runs the DAG against a SQLite ML Metadata store and writes
OUTPUT/run_summary.json and OUTPUT/report.html whatever the outcome.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import tempfile
import time
from typing import Callable

from tfx import v1 as tfx
from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner
from tfx.orchestration.portable import tfx_runner

from components.ingestion.folder_scan import scan_image_folder
from components.schema_contract import find_schema_for
from components.weights import resolve_weights
from pipeline.config import DEFAULT_SCHEMA_DIR, ConfigError, PipelineConfig
from pipeline.data_source import resolve_data_dir
from pipeline.pipeline import create_pipeline
from pipeline.progress import ComponentProgress
from pipeline.run_summary import build_summary, write_summary


class PipelineRunError(RuntimeError):
    """A component failed; the summary file holds what did run."""


def _preflight(config: PipelineConfig, log: Callable[[str], None]) -> PipelineConfig:
    if config.input_format == "tfrecord":
        if not config.schema_path:
            raise ConfigError("tfrecord input needs --schema (a schema.pbtxt under schemas/ naming the classes)")
        return config
    scan = scan_image_folder(config.data_dir, config.group_pattern)
    counts = ", ".join(f"{name}: {count}" for name, count in scan.count_by_class().items())
    log(f"data: {config.data_dir}: {len(scan.candidates)} image files in {len(scan.class_names)} classes ({counts})")
    for warning in scan.warnings:
        log(f"warning: {warning}")
    if len(scan.class_names) != 2:
        raise ConfigError(
            f"{config.data_dir}: {len(scan.class_names)} classes ({', '.join(scan.class_names)}); this pipeline "
            "trains a binary classifier: keep exactly two class folders"
        )
    schema_path = config.schema_path or find_schema_for(scan.class_names, DEFAULT_SCHEMA_DIR)
    if not schema_path:
        raise ConfigError(
            f"no schema in {DEFAULT_SCHEMA_DIR} has the classes {scan.class_names}; create one with "
            f"`transfer-pipeline make-schema --classes {' '.join(scan.class_names)} --name NAME`, review it, "
            "and run again (or pass --schema FILE)"
        )
    log(f"schema: {schema_path}")
    return dataclasses.replace(config, schema_path=schema_path)


def _ensure_weights(config: PipelineConfig, log: Callable[[str], None]) -> None:
    """Fetches and converts the pretrained weights now, with progress, rather than inside the Trainer."""
    resolved = resolve_weights(config.weights, config.weights_cache_dir, progress=log)
    log(f"weights: {resolved or 'random initialisation (weights=none)'}")


@contextlib.contextmanager
def _child_output_captured(enabled: bool):
    """Keeps the build log of TFX's module-file packaging (setup.py bdist_wheel, a child
    process writing to file descriptors 1 and 2) off the terminal; it is shown if the build fails."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}

    def restore():
        for fd, copy in saved.items():
            os.dup2(copy, fd)

    with tempfile.TemporaryFile(mode="w+") as captured:
        for fd in saved:
            os.dup2(captured.fileno(), fd)
        try:
            yield
        except Exception:
            restore()
            captured.seek(0)
            sys.stderr.write(captured.read())
            raise
        finally:
            restore()
            for copy in saved.values():
                os.close(copy)


def _write_report(config: PipelineConfig, summary: dict, log: Callable[[str], None]):
    """OUTPUT/report.html, whatever the outcome; a report failure is told, never raised over the run's own."""
    try:
        from pipeline.report.local import write_run_report

        return write_run_report(config, summary)
    except Exception as err:  # noqa: BLE001
        log(f"warning: the run report was not written ({type(err).__name__}: {err})")
        return None


def run_pipeline(config: PipelineConfig, log: Callable[[str], None] = print, verbose: bool = False) -> dict:
    config = config.absolute()
    os.makedirs(config.output_dir, exist_ok=True)
    data_dir, data_source = resolve_data_dir(config.data_dir, config.output_dir, log)
    config = _preflight(dataclasses.replace(config, data_dir=os.path.abspath(data_dir)), log)
    _ensure_weights(config, log)

    metadata = tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path)
    pipeline = create_pipeline(config, metadata_connection_config=metadata)
    runner = tfx.orchestration.LocalDagRunner() if config.runner == "local" else BeamDagRunner()
    node_ids = [component.id for component in pipeline.components]
    log(f"running {len(node_ids)} components with {type(runner).__name__}; outputs in {config.output_dir}")
    started = time.monotonic()
    status, error = "succeeded", None
    if not verbose:
        # TFX pip-installs the packaged module files in each component (and Beam worker): keep pip quiet.
        os.environ.setdefault("PIP_QUIET", "1")
    progress = ComponentProgress(node_ids, config.metadata_path, log, verbose=verbose)
    try:
        # What runner.run(pipeline) does, in two steps, so that the module-file packaging
        # (compile) can run with its build log captured while the run itself prints freely.
        with _child_output_captured(not verbose):
            pipeline_ir = tfx_runner._make_pipeline_proto(pipeline)  # noqa: SLF001
        with progress:
            runner.run_with_ir(pipeline_ir)
    except Exception as err:  # any component failure: report it, keep what ran
        status, error = "failed", f"{type(err).__name__}: {err}"
    summary = build_summary(config, status, error, data_source, progress.seconds)
    summary["seconds"] = round(time.monotonic() - started, 1)
    summary["planned_components"] = node_ids
    write_summary(summary, config.summary_path)
    summary["report_path"] = _write_report(config, summary, log)
    if error:
        raise PipelineRunError(f"{error}\n(run summary: {config.summary_path}; report: {summary['report_path']})")
    return summary
