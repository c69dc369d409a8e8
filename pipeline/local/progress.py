"""'Component n of m' progress, read from ML Metadata while the DAG runs.

TFX registers an execution (RUNNING) when a component starts and marks it
COMPLETE, CACHED or FAILED when it ends; a background thread polls the SQLite
store for those changes. This works the same for every runner (two
components running side by side are both announced), whatever the
components do to Python logging.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from typing import Callable, List

from ml_metadata.proto import metadata_store_pb2

from pipeline.run_record.metadata import execution_seconds, executions_by_node, open_readonly, stopped_beside_the_first_failure

# Warnings TFX and TFMA emit on every healthy run; hidden unless --verbose.
_BENIGN_WARNINGS = re.compile(
    r"ArtifactQuery\.property_predicate is not supported|does not have payload_format custom property|"
    # The Transform's path when it writes its graph alone (pipeline/pipeline.py), which TFX logs as a warning.
    r"Using the in-place Transform since"
)
# Libraries whose own warnings (deprecations, Beam worker chatter) are noise to a user.
_QUIET_LOGGERS = ("tensorflow", "apache_beam")

_ENDED = {
    metadata_store_pb2.Execution.COMPLETE: "done",
    metadata_store_pb2.Execution.CACHED: "cached",
    metadata_store_pb2.Execution.FAILED: "FAILED",
    metadata_store_pb2.Execution.CANCELED: "canceled",
}


class ComponentProgress:
    def __init__(self, node_ids: List[str], metadata_path: str, log: Callable[[str], None],
                 verbose: bool = False, poll_seconds: float = 1.0):
        self._total = len(node_ids)
        self._metadata_path = metadata_path
        self._log = log
        self._poll_seconds = poll_seconds
        self.verbose = verbose
        self.seconds = {}
        self._announced = set()
        self._ended = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="component-progress", daemon=True)

    def _poll(self, store, since_ms: int) -> None:
        runs = [c for c in store.get_contexts_by_type("pipeline_run") if c.create_time_since_epoch >= since_ms]
        if not runs:
            return
        run = max(runs, key=lambda c: c.create_time_since_epoch)
        executions = executions_by_node(store, run)
        for node, _ in executions:
            if node not in self._announced:
                self._announced.add(node)
                self._log(f"[{len(self._announced)}/{self._total}] {node} ...")
        stopped = stopped_beside_the_first_failure(execution for _, execution in executions)  # as the record says
        ended = [(node, execution) for node, execution in executions
                 if execution.last_known_state in _ENDED and node not in self._ended]
        for node, execution in sorted(ended, key=lambda row: row[1].last_update_time_since_epoch):
            word = "canceled" if execution.id in stopped else _ENDED[execution.last_known_state]
            self._ended.add(node)
            self.seconds[node] = execution_seconds(execution)
            self._log(f"[{len(self._ended)}/{self._total}] {node} {word} ({self.seconds[node]:.1f}s)")

    def _watch(self) -> None:
        since_ms = int(time.time() * 1000) - 1000
        store = None
        while True:
            stopping = self._stop.wait(self._poll_seconds)
            try:
                if store is None and os.path.exists(self._metadata_path):
                    store = open_readonly(self._metadata_path)
                if store is not None:
                    self._poll(store, since_ms)
            except Exception:  # the writer may hold a lock for a moment; try again next tick
                pass
            if stopping:
                return

    def __enter__(self):
        logger = logging.getLogger("absl")
        self._saved = (logger.level, logger.propagate)
        if not self.verbose:
            # TFX's INFO flood stays out of the way; warnings and errors still show.
            logger.propagate = False
            self._warnings = logging.StreamHandler()
            self._warnings.setLevel(logging.WARNING)
            self._warnings.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
            self._warnings.addFilter(lambda record: not _BENIGN_WARNINGS.search(record.getMessage()))
            logger.addHandler(self._warnings)
            self._quieted = {name: logging.getLogger(name).level for name in _QUIET_LOGGERS}
            for name in _QUIET_LOGGERS:
                logging.getLogger(name).setLevel(logging.ERROR)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=30)
        logger = logging.getLogger("absl")
        if not self.verbose:
            logger.removeHandler(self._warnings)
            for name, level in self._quieted.items():
                logging.getLogger(name).setLevel(level)
        logger.setLevel(self._saved[0])
        logger.propagate = self._saved[1]
        return False
