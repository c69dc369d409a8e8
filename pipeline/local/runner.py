"""Runs the pipeline on this machine: ConcurrentDagRunner (default), TFX's BeamDagRunner or LocalDagRunner.

Resolves the data and the schema, checks the data set before any heavy
work, runs the DAG against a SQLite ML Metadata store and writes
OUTPUT/run_summary.json and OUTPUT/report.html whatever the outcome. One run at a
time holds an output dir (run_lock.py); SIGINT/SIGTERM stop it cleanly (interrupts.py).
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import time
from typing import Callable, Dict, List, Optional

from tfx.orchestration import metadata as tfx_metadata
from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner

from components.constants import REJECTED_FILES_CSV
from components.run_stop import STOPPABLE_NODES
from components.ingestion.folder_scan import DataError, scan_image_folder
from components.ingestion.golden_set import read_golden_set
from components.ingestion.group_split import require_every_class_in_eval, split_groups
from components.serving import publisher as version_publisher
from components.serving.lock import serving_lock
from components.serving.versions import ServingDirError
from components.schema_contract import find_schema_for
from components.weights import WeightsError, resolve_weights
from pipeline.process.beam_mode import choose_beam_args, folder_bytes, prepare_local_beam
from pipeline.config import DEFAULT_SCHEMA_DIR, ConfigError, PipelineConfig
from components.ingestion.data_source import resolve_data_dir
from pipeline.local.concurrent_dag_runner import ConcurrentDagRunner
from pipeline.local.interrupts import InterruptGuard, RunInterrupted
from pipeline.pipeline import create_pipeline
from pipeline.local.progress import ComponentProgress
from pipeline.local.run_lock import RunLock
from pipeline.local.run_summary import build_record
from pipeline.run_record.record import DataRecord, RunRecord


class PipelineRunError(RuntimeError):
    """A component failed; the summary file holds what did run."""


def _with_beam_args(config: PipelineConfig, images: Optional[int], log: Callable[[str], None]) -> PipelineConfig:
    """The configured Beam options, or (none configured) the mode that suits the data's size."""
    if config.beam_args:
        log(f"beam: {' '.join(config.beam_args)} (as configured)")
        return config
    args, why = choose_beam_args(images, folder_bytes(config.data_dir) if images is None else 0)
    log(f"beam: {why} (set beam_args or --beam-args to choose)")
    return dataclasses.replace(config, beam_args=args)


def _preflight(config: PipelineConfig, log: Callable[[str], None]) -> PipelineConfig:
    if os.path.exists(config.serving_path) and not os.path.isdir(config.serving_path):
        # Found here, not by ServingBaseline after eight components.
        raise ConfigError(f"serving dir {config.serving_path} is a file, not a folder; pass --serving-dir with a folder "
                          "(it is made if missing) or move the file away")
    if config.input_format == "tfrecord":
        if not config.schema_path:
            raise ConfigError("tfrecord input needs --schema (a schema.pbtxt under schemas/ naming the classes)")
        return _with_beam_args(config, None, log)
    scan = scan_image_folder(config.data_dir, config.group_pattern, groups_span_classes=config.groups_span_classes,
                             window_spans=config.window_spans, span=config.span)
    counts = ", ".join(f"{name}: {count}" for name, count in scan.count_by_class().items())
    window = f" of spans {', '.join(scan.spans)} (of {len(scan.spans_present)})" if scan.spans else ""
    log(f"data: {config.data_dir}: {len(scan.candidates)} image files{window} in {len(scan.class_names)} classes ({counts})")
    for warning in scan.warnings:
        log(f"warning: {warning}")
    split_of = split_groups(scan.candidates, config.eval_fraction, config.split_seed,
                            config.stratify_by_source_kind, config.folds, config.eval_fold)
    require_every_class_in_eval(scan.candidates, split_of, config.eval_fraction, config.data_dir)
    if config.golden_dir:  # refused here, before any heavy work, as ingestion would refuse it
        golden = read_golden_set(config.golden_dir, scan, config.group_pattern, config.groups_span_classes)
        counts = ", ".join(f"{name}: {count}" for name, count in golden.count_by_class().items())
        log(f"golden set: {config.golden_dir}: {len(golden.candidates)} image files ({counts}), none in the training data")
    schema_path = config.schema_path or find_schema_for(scan.class_names, DEFAULT_SCHEMA_DIR)
    if not schema_path:
        raise ConfigError(
            f"no schema in {DEFAULT_SCHEMA_DIR} has the classes {scan.class_names}; create one with "
            f"`transfer-pipeline make-schema --classes {' '.join(scan.class_names)} --name NAME`, review it, "
            "and run again (or pass --schema FILE)"
        )
    log(f"schema: {schema_path}")
    return _with_beam_args(dataclasses.replace(config, schema_path=schema_path), len(scan.candidates), log)


def _ensure_weights(config: PipelineConfig, log: Callable[[str], None]) -> None:
    """Fetches and converts the pretrained weights now, with progress, rather than inside the Trainer."""
    resolved = resolve_weights(config.weights, config.weights_cache_dir, progress=log)
    log(f"weights: {resolved or 'random initialisation (weights=none)'}")


def _write_report(config: PipelineConfig, record: RunRecord, log: Callable[[str], None]) -> Optional[str]:
    """OUTPUT/report.html, whatever the outcome; a report failure is told, never raised over the run's own."""
    try:
        from pipeline.local.report_file import write_run_report

        return write_run_report(config, record)
    except Exception as err:  # noqa: BLE001
        log(f"warning: the run report was not written ({type(err).__name__}: {err})")
        return None


@dataclasses.dataclass
class _RunSoFar:
    """What the run knows of itself as it goes: its record is built from it whatever the outcome."""

    started: str = dataclasses.field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    started_ms: int = dataclasses.field(default_factory=lambda: int(time.time() * 1000))
    monotonic: float = dataclasses.field(default_factory=time.monotonic)
    pid: int = dataclasses.field(default_factory=os.getpid)
    data_source: Optional[dict] = None
    beam_args: Optional[List[str]] = None
    planned_components: List[str] = dataclasses.field(default_factory=list)
    component_seconds: Dict[str, float] = dataclasses.field(default_factory=dict)
    """Wall time per component as the progress display measured it (more exact than ML Metadata's)."""


def _dag_runner(name: str):
    """The `runner` setting's DAG runner."""
    if name == "local":
        return LocalDagRunner()
    if name == "beam":
        return BeamDagRunner()
    return ConcurrentDagRunner(STOPPABLE_NODES)


def _execute(config: PipelineConfig, log: Callable[[str], None], verbose: bool, run: _RunSoFar) -> None:
    """Preflight, then the DAG. Records in `run` what the record needs, as soon as it is known."""
    data_dir, run.data_source = resolve_data_dir(config.data_dir, config.output_dir, log)
    config = _preflight(dataclasses.replace(config, data_dir=os.path.abspath(data_dir)), log)
    run.beam_args = config.beam_args
    _ensure_weights(config, log)

    metadata = tfx_metadata.sqlite_metadata_connection_config(config.metadata_path)
    pipeline = create_pipeline(config, metadata_connection_config=metadata)
    prepare_local_beam()
    runner = _dag_runner(config.runner)
    node_ids = [component.id for component in pipeline.components]
    run.planned_components = node_ids
    log(f"running {len(node_ids)} components with {type(runner).__name__}; outputs in {config.output_dir}")
    progress = ComponentProgress(node_ids, config.metadata_path, log, verbose=verbose)
    run.component_seconds = progress.seconds
    with progress:
        runner.run(pipeline)


def _start(config: PipelineConfig, lock: RunLock, run: _RunSoFar, log: Callable[[str], None]) -> None:
    """What a run does before anything else, so no earlier run's outputs look like this one's."""
    if lock.recovered:
        log(f"note: the previous run in {config.output_dir} ({lock.recovered}) was killed or crashed; "
            "what it completed is reused from the cache")
    RunRecord(status="running", started=run.started, pid=run.pid, output_dir=config.output_dir).write(config.summary_path)
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(config.output_dir, REJECTED_FILES_CSV))
    if "://" not in config.serving_path and os.path.isdir(config.serving_path):
        _remove_orphaned_staging(config.serving_path, log)


def _remove_orphaned_staging(serving_dir: str, log: Callable[[str], None]) -> None:
    """Half-copied pushes of killed runs go, under the serving lock (a live push's staging is never touched).
    A lock held by another run is not waited for: that run's Pusher does the same cleanup under it."""
    try:
        with serving_lock(serving_dir, "removing staging folders of pushes that did not finish", wait_s=0):
            for path in version_publisher.clean_orphaned_staging(serving_dir):
                log(f"removed {path}, left by a push that did not finish")
    except ServingDirError as err:
        log(f"note: staging folders not checked now ({err})")


def _finish(config: PipelineConfig, run: _RunSoFar, status: str, error: Optional[str],
            log: Callable[[str], None]) -> RunRecord:
    """Writes run_summary.json and report.html; a failure here is recorded, never allowed to hide the run's own error."""
    try:
        record = build_record(config, status, error, run.data_source, run.component_seconds, since_ms=run.started_ms)
    except Exception as err:  # noqa: BLE001 (the record must still be written)
        record = RunRecord(status=status, error=error, data=DataRecord(source=run.data_source or {}),
                           record_error=f"{type(err).__name__}: {err}")
    record.started = run.started
    record.seconds = round(time.monotonic() - run.monotonic, 1)
    record.planned_components = run.planned_components
    record.beam_args = run.beam_args
    _write_record(record, config.summary_path)
    record.report_path = _write_report(config, record, log)
    if record.report_path:
        _write_record(record, config.summary_path)
    return record


def _write_record(record: RunRecord, path: str) -> None:
    try:
        record.write(path)
    except OSError as err:
        print(f"warning: cannot write {path}: {err}", file=sys.stderr)


def run_pipeline(config: PipelineConfig, log: Callable[[str], None] = print, verbose: bool = False) -> RunRecord:
    """Runs the pipeline once. Raises RunLockedError (another run holds the output dir), DataError/ConfigError/
    WeightsError (preflight), PipelineRunError (a component failed) or RunInterrupted (SIGINT/SIGTERM)."""
    config = config.absolute()
    with RunLock(config.output_dir) as lock, InterruptGuard() as interrupts:
        run = _RunSoFar()
        try:
            _start(config, lock, run, log)
            _execute(config, log, verbose, run)
            if interrupts.signum is not None:  # the DAG ended before a redelivered signal reached it
                raise RunInterrupted(interrupts.signum)
            status, error, raised = "succeeded", None, None
        except BaseException as err:  # noqa: BLE001 (classified right below; nothing is swallowed)
            if interrupts.signum is not None:
                raised = RunInterrupted(interrupts.signum, config.summary_path)
                status, error = "interrupted", f"stopped by {raised.signal_name}"
            elif isinstance(err, (DataError, ConfigError, WeightsError)):
                status, error, raised = "failed", f"{type(err).__name__}: {err}", err
            elif isinstance(err, Exception):  # any component failure: report it, keep what ran
                status, error = "failed", f"{type(err).__name__}: {err}"
                raised = PipelineRunError(
                    f"{error}\n(run summary: {config.summary_path}; report: {os.path.join(config.output_dir, 'report.html')})"
                )
            else:
                raise
        interrupts.stopping()  # from here a further signal cannot cut the summary short
        record = _finish(config, run, status, error, log)
    if raised is not None:
        raise raised
    return record
