"""What a run's artifacts say, read back from ML Metadata: the components' executions and outputs, the data, the model and the gate."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Tuple

from ml_metadata.proto import metadata_store_pb2

from components import constants, node_ids
from components.data_gate import DataValidationError, read_anomalies
from components.drift.executor import read_report as read_drift_report, stopped_report_dir
from components.schema_contract import class_names_of, load_schema
from components.ingestion.report import read_report
from components.model.training import HISTORY_FILE
from components.promotion import noise_gate
from components.promotion.evaluation_report import per_class_scores, read_evaluation
from pipeline.run_record.metadata import (execution_seconds, executions_by_node, open_readonly, property_value,
                                          stopped_beside_the_first_failure)
from pipeline.run_record.record import (ComponentRun, ConfusionMatrix, DataRecord, DriftRecord, GateRecord, GoldenRecord,
                                        ModelRecord, RunRecord,
                                        SpansRecord, WarmStartRecord, from_mapping)

_STATES = {
    metadata_store_pb2.Execution.COMPLETE: "ran",
    metadata_store_pb2.Execution.CACHED: "cached",
    metadata_store_pb2.Execution.FAILED: "failed",
    metadata_store_pb2.Execution.RUNNING: "running",
    metadata_store_pb2.Execution.CANCELED: "canceled",
}


def _latest_run_context(store, pipeline_name: str, since_ms: int = 0) -> Optional[metadata_store_pb2.Context]:
    runs = [c for c in store.get_contexts_by_type("pipeline_run") if c.create_time_since_epoch >= since_ms]
    pipeline_ids = {c.id for c in store.get_contexts_by_type("pipeline") if c.name == pipeline_name}
    runs = [r for r in runs if any(p.id in pipeline_ids for p in store.get_parent_contexts_by_context(r.id))] or runs
    return max(runs, key=lambda c: c.create_time_since_epoch) if runs else None


def _outputs(store, execution_id: int) -> Dict[str, List[metadata_store_pb2.Artifact]]:
    events = [e for e in store.get_events_by_execution_ids([execution_id]) if e.type == metadata_store_pb2.Event.OUTPUT]
    by_id = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
    outputs: Dict[str, List] = {}
    for event in events:
        key = event.path.steps[0].key if event.path.steps else "output"
        outputs.setdefault(key, []).append(by_id[event.artifact_id])
    return outputs


def collect_executions(metadata_path: str, pipeline_name: str, since_ms: int = 0) -> List[dict]:
    """One row per component of the latest run (started at or after since_ms): name, state, seconds, outputs,
    the MLMD execution."""
    if not os.path.exists(metadata_path):
        return []
    store = open_readonly(metadata_path)
    run = _latest_run_context(store, pipeline_name, since_ms)
    if run is None:
        return []
    return stopped_by_the_first_failure([
        {
            "component": node,
            "state": _STATES.get(execution.last_known_state, "unknown"),
            "seconds": execution_seconds(execution),
            "outputs": _outputs(store, execution.id),
            "execution": execution,
        }
        for node, execution in executions_by_node(store, run)
    ])


def stopped_by_the_first_failure(rows: List[dict]) -> List[dict]:
    """`rows` with each component the run stopped when another failed beside it marked canceled
    (metadata.py: stopped_beside_the_first_failure)."""
    stopped = stopped_beside_the_first_failure(row["execution"] for row in rows if row.get("execution") is not None)
    for row in rows:
        if row.get("execution") is not None and row["execution"].id in stopped:
            row["state"] = "canceled"
    return rows


def _first_artifact(rows: List[dict], output_key: str) -> Optional[metadata_store_pb2.Artifact]:
    for row in rows:
        if row["outputs"].get(output_key):
            return row["outputs"][output_key][0]
    return None


def first_uri(rows: List[dict], output_key: str) -> Optional[str]:
    artifact = _first_artifact(rows, output_key)
    return artifact.uri if artifact else None


def _custom(artifact, key: str, default=None):
    if artifact is None or key not in artifact.custom_properties:
        return default
    return property_value(artifact.custom_properties[key])


def _square(counts: List[List[int]], size: int) -> List[List[int]]:
    """Pads a confusion matrix to size x size (a class never seen nor predicted has no entries)."""
    return [[(counts[i][j] if i < len(counts) and j < len(counts[i]) else 0) for j in range(size)] for i in range(size)]


def read_model_and_gate(rows: List[dict], class_names: Optional[List[str]] = None) -> Tuple[ModelRecord, GateRecord]:
    """Candidate and baseline metrics, confusion matrix, the blessing and why, and where the model went."""
    model, gate = ModelRecord(uri=first_uri(rows, "model")), GateRecord()
    baseline = _first_artifact(rows, "baseline_model")
    if baseline is not None:
        gate.baseline = _custom(baseline, "baseline_note")
    evaluation_uri = first_uri(rows, "evaluation")
    if evaluation_uri and os.path.exists(os.path.join(evaluation_uri, "eval_config.json")):
        evaluation = read_evaluation(evaluation_uri)
        model.metrics = evaluation["models"]
        gate.failures = evaluation["failures"]
        counts = evaluation["confusion"].get("candidate")
        if counts is not None and class_names:
            model.confusion_matrix = ConfusionMatrix(class_names, _square(counts, len(class_names)))
            model.per_class = per_class_scores(model.confusion_matrix.counts, class_names)
        if evaluation["noise"]:
            gate.noise = evaluation["noise"]
            if evaluation["noise"].get("golden"):
                gate.golden = from_mapping(GoldenRecord, evaluation["noise"]["golden"])
            checks = noise_gate.checks_by_slice(evaluation["noise"])
            for name, scores in model.per_class.items():
                check = checks.get(f"{constants.CLASS_NAME_KEY}={name}")
                if check:
                    scores["recall_interval"] = [check["lower"], check["upper"]]
    blessing = _first_artifact(rows, "blessing")
    if blessing is not None:
        gate.blessed = bool(_custom(blessing, "blessed", 0))
        gate.why = "meets every threshold" if gate.blessed else "; ".join(gate.failures) or "not blessed"
    pushed = _first_artifact(rows, "pushed_model")
    if pushed is not None:
        gate.pushed = _custom(pushed, "pushed_destination") if _custom(pushed, "pushed", 0) else "not pushed"
        gate.push_note = _custom(pushed, "push_note")
        gate.force_push_reason = _custom(pushed, "force_push_reason") or None
    return model, gate


def counts_from_statistics(statistics_uri: str) -> Dict[str, Dict[str, int]]:
    """{split: {class: count}} from StatisticsGen's output (for input without an ingestion report)."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    counts = {}
    for split in (constants.TRAIN_SPLIT, constants.EVAL_SPLIT):
        path = os.path.join(statistics_uri, f"Split-{split}", "FeatureStats.pb")
        if not os.path.exists(path):
            continue
        stats = statistics_pb2.DatasetFeatureStatisticsList()
        with open(path, "rb") as handle:
            stats.ParseFromString(handle.read())
        for feature in stats.datasets[0].features:
            if feature.path.step == [constants.CLASS_NAME_KEY]:
                buckets = feature.string_stats.rank_histogram.buckets
                counts[split] = {bucket.label: int(bucket.sample_count) for bucket in buckets}
    return counts


def read_data(rows: List[dict]) -> DataRecord:
    """What the artifacts of `rows` say of the data: classes, counts, subjects, files turned away, anomalies."""
    data = DataRecord()
    examples_uri = first_uri(rows, "examples")
    report = read_report(examples_uri) if examples_uri else {}
    if report:
        data.classes = report["class_names"]
        data.examples = report["counts"]
        data.total_examples = report["total_examples"]
        data.groups_per_split = report["groups_per_split"]
        data.groups_in_both_splits = report["groups_in_both_splits"]
        data.ungrouped_files_per_split = report.get("ungrouped_files_per_split", {})
        data.images_per_source_kind = report.get("images_per_source_kind", {})
        data.rejected_files = report["rejected"]
        data.converted_files = report["converted"]
        data.warnings = report["warnings"]
    elif first_uri(rows, "statistics"):
        data.examples = counts_from_statistics(first_uri(rows, "statistics"))
        data.total_examples = sum(sum(counts.values()) for counts in data.examples.values())
    anomalies_uri = first_uri(rows, "anomalies")
    if anomalies_uri:
        try:
            data.anomalies = read_anomalies(anomalies_uri, [constants.TRAIN_SPLIT, constants.EVAL_SPLIT]
                                            + ([constants.GOLDEN_SPLIT] if constants.GOLDEN_SPLIT in data.examples else []))
        except DataValidationError as err:
            data.anomalies = {"unreadable": [str(err)]}
    data.transform_graph = first_uri(rows, "transform_graph")
    schema_uri = first_uri(rows, "validated_schema")
    if not data.classes and schema_uri and os.path.exists(os.path.join(schema_uri, "schema.pbtxt")):
        data.classes = class_names_of(load_schema(os.path.join(schema_uri, "schema.pbtxt")))
    return data


def read_spans(rows: List[dict]) -> Optional[SpansRecord]:
    """The window of spans ingestion read and its images per span and class; None for a plain data dir (or
    input without an ingestion report)."""
    examples_uri = first_uri(rows, "examples")
    spans = (read_report(examples_uri) if examples_uri else {}).get("spans")
    return from_mapping(SpansRecord, spans) if spans else None


def read_warm_start(rows: List[dict]) -> Optional[WarmStartRecord]:
    """Where the Trainer's head started, from its training history; None where warm start was off."""
    model_run_uri = first_uri(rows, "model_run")
    path = os.path.join(model_run_uri, HISTORY_FILE) if model_run_uri else ""
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        warm_start = json.load(handle).get("warm_start")
    return from_mapping(WarmStartRecord, warm_start) if warm_start else None


def read_drift(rows: List[dict], pipeline_root: Optional[str] = None) -> Optional[DriftRecord]:
    """The drift gate's report; None where the gate did not run. A gate that stopped the run published no
    output (TFX removes a failed execution's outputs), so its report is read where the gate kept it
    (components/drift/executor.py: stopped_report_dir), given pipeline_root."""
    report_uri = first_uri(rows, "drift_report")
    failed = [row for row in rows if row["component"] == node_ids.DRIFT_GATE and row["state"] == "failed"]
    if report_uri is None and failed and pipeline_root:
        report_uri = stopped_report_dir(
            os.path.join(pipeline_root, node_ids.DRIFT_GATE, "drift_report", str(failed[0]["execution"].id)))
    report = read_drift_report(report_uri) if report_uri else None
    if not report:
        return None
    record = from_mapping(DriftRecord, report)
    record.alone_seconds = _seconds_alone(rows, node_ids.DRIFT_GATE)
    return record


def _seconds_alone(rows: List[dict], component: str) -> Optional[float]:
    """Of `component`'s execution, the seconds no other component ran beside it (ML Metadata's times: from
    its registration to its publication): what it added to the run's wall time. None without executions."""
    executions = {row["component"]: row["execution"] for row in rows if row.get("execution") is not None}
    if component not in executions:
        return None
    start, end = executions[component].create_time_since_epoch, executions[component].last_update_time_since_epoch
    beside = sorted((max(start, other.create_time_since_epoch), min(end, other.last_update_time_since_epoch))
                    for name, other in executions.items() if name != component)
    covered, reached = 0, start
    for begins, ends in beside:
        begins = max(begins, reached)
        if ends > begins:
            covered, reached = covered + ends - begins, ends
    return round((end - start - covered) / 1000, 1)


def read_run(rows: List[dict], status: str, **run: Any) -> RunRecord:
    """The record of the run whose components are `rows`: `run` holds what the runner knows of itself."""
    data = read_data(rows)
    model, gate = read_model_and_gate(rows, data.classes)
    components = [ComponentRun(row["component"], row["state"], row.get("seconds")) for row in rows]
    return RunRecord(status=status, components=components, data=data, model=model, gate=gate,
                     warm_start=read_warm_start(rows), **run)
