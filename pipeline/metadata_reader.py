"""Reads TFX's ML Metadata store (SQLite) read-only: a run's components and their executions.

Shared by the live progress display and the run summary.
"""
from __future__ import annotations

from typing import List, Tuple

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2


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


def execution_seconds(execution: metadata_store_pb2.Execution) -> float:
    return round((execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 1000, 1)
