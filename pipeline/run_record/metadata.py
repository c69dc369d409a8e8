"""Reads TFX's ML Metadata store (SQLite) read-only: a run's components and their executions.

Shared by the local progress display, the run record of both runners, and the rehearsal's summary.
"""
from __future__ import annotations

from typing import Any, Iterable, List, Set, Tuple

from google.protobuf import json_format
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from pipeline.run_record.kfp_values import unwrap_kfp_value

# TFX's Artifact stores a JSON value that is not a dict as the struct {"__value__": value}
# (tfx/types/artifact.py, _encode_struct_value).
TFX_SINGLE_VALUE_KEY = "__value__"


def property_value(value: metadata_store_pb2.Value) -> Any:
    """An ML Metadata property as a Python value, whoever wrote it.

    TFX's local runner writes ints and strings; on Kubeflow, TFX's entrypoint hands a
    component every input property as a struct ({"__value__": 1.0}), and KFP's launcher stores
    dicts and lists wrapped ({"struct": {...}}). A struct read as the message itself is always
    truthy, so a `blessed` of 0 would read as blessed.
    """
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "struct_value":
        decoded = json_format.MessageToDict(value.struct_value)
        return unwrap_kfp_value(decoded[TFX_SINGLE_VALUE_KEY] if TFX_SINGLE_VALUE_KEY in decoded else decoded)
    return getattr(value, kind)


def open_readonly(metadata_path: str) -> metadata_store.MetadataStore:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(config)


def executions_by_node(store, run: metadata_store_pb2.Context) -> List[Tuple[str, metadata_store_pb2.Execution]]:
    """(component id, execution) for each component of a pipeline run, in start order."""
    node_type = store.get_context_type("node")
    rows = []
    for execution in sorted(store.get_executions_by_context(run.id), key=lambda e: e.create_time_since_epoch):
        node = next(
            (c.name.split(".", 1)[-1] for c in store.get_contexts_by_execution(execution.id) if c.type_id == node_type.id),
            str(execution.id),
        )
        rows.append((node, execution))
    return rows


def stopped_beside_the_first_failure(executions: Iterable[metadata_store_pb2.Execution]) -> Set[int]:
    """The ids of the failed executions that ended after the first one to fail: components running beside it
    (the drift gate beside the data gate), which the run asked to stop and which ML Metadata records failed
    too (pipeline/local/concurrent_dag_runner.py). The run stopped where it failed first."""
    failed = [e for e in executions if e.last_known_state == metadata_store_pb2.Execution.FAILED]
    if len(failed) < 2:
        return set()
    first = min(failed, key=lambda execution: execution.last_update_time_since_epoch)
    return {execution.id for execution in failed if execution.id != first.id}


def execution_seconds(execution: metadata_store_pb2.Execution) -> float:
    return round((execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 1000, 1)
