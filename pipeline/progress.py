"""Turns TFX's runner log lines into 'component n of m' progress for the user."""
from __future__ import annotations

import logging
import re
import time
from typing import Callable, List

from absl import logging as absl_logging

_NODE_EVENT = re.compile(r"(?:node|Component) (\S+) is (running|finished)\.")


class ComponentProgress(logging.Handler):
    def __init__(self, node_ids: List[str], log: Callable[[str], None]):
        super().__init__(level=logging.INFO)
        self._total = len(node_ids)
        self._log = log
        self._started = {}
        self._done = 0

    def emit(self, record: logging.LogRecord) -> None:
        match = _NODE_EVENT.search(record.getMessage())
        if not match:
            return
        node, event = match.groups()
        if event == "running":
            self._started[node] = time.monotonic()
            self._log(f"[{self._done + 1}/{self._total}] {node} ...")
        else:
            self._done += 1
            seconds = time.monotonic() - self._started.get(node, time.monotonic())
            self._log(f"[{self._done}/{self._total}] {node} done in {seconds:.1f}s")

    def __enter__(self):
        logger = logging.getLogger("absl")
        self._previous_level = logger.level
        logger.setLevel(logging.INFO)
        absl_handler = absl_logging.get_absl_handler()
        self._previous_handler_level = absl_handler.level
        if absl_handler.level < logging.WARNING and not self._verbose():
            absl_handler.setLevel(logging.WARNING)  # TFX's INFO flood stays out of the way
        logger.addHandler(self)
        return self

    def __exit__(self, *exc):
        logger = logging.getLogger("absl")
        logger.removeHandler(self)
        logger.setLevel(self._previous_level)
        absl_logging.get_absl_handler().setLevel(self._previous_handler_level)
        return False

    @staticmethod
    def _verbose() -> bool:
        return logging.getLogger("absl").isEnabledFor(logging.DEBUG)
