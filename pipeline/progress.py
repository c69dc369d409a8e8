"""Turns TFX's runner log lines into 'component n of m' progress for the user."""
from __future__ import annotations

import logging
import re
import time
from typing import Callable, List


_NODE_EVENT = re.compile(r"(?:node|Component) (\S+) is (running|finished)\.")


class ComponentProgress(logging.Handler):
    def __init__(self, node_ids: List[str], log: Callable[[str], None], verbose: bool = False):
        super().__init__(level=logging.INFO)
        self.verbose = verbose
        self.seconds = {}
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
            self.seconds[node] = round(seconds, 1)
            self._log(f"[{self._done}/{self._total}] {node} done in {seconds:.1f}s")

    def __enter__(self):
        logger = logging.getLogger("absl")
        self._saved = (logger.level, logger.propagate)
        logger.setLevel(logging.INFO)
        logger.addHandler(self)
        if not self.verbose:
            # TFX's INFO flood stays out of the way; warnings and errors still show.
            logger.propagate = False
            self._warnings = logging.StreamHandler()
            self._warnings.setLevel(logging.WARNING)
            self._warnings.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
            logger.addHandler(self._warnings)
        return self

    def __exit__(self, *exc):
        logger = logging.getLogger("absl")
        logger.removeHandler(self)
        if not self.verbose:
            logger.removeHandler(self._warnings)
        logger.setLevel(self._saved[0])
        logger.propagate = self._saved[1]
        return False
