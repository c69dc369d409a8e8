"""The local run's request to stop, for the components that run beside another (pipeline/local/concurrent_dag_runner.py).

Ctrl-C and SIGTERM reach only the main thread. A component run on another thread cannot be abandoned
there, so it asks at each step whether the run is stopping and ends itself (RunStopped): within one
batch of its work. Elsewhere (a Kubeflow pod, TFX's own runners) nothing sets STOP and the checks cost
an Event's look-up.
"""
from __future__ import annotations

import threading

from components import node_ids

STOP = threading.Event()
# The components whose executors call stop_here at each step, so a local run may run them beside another.
STOPPABLE_NODES = frozenset({node_ids.DRIFT_GATE})


class RunStopped(RuntimeError):
    """The run stopped (another component failed, or a signal) while this one ran beside it."""


def stop_here(who: str) -> None:
    """Raises RunStopped when the run is stopping."""
    if STOP.is_set():
        raise RunStopped(f"{who}: stopped, as the run is stopping (another component failed or the run was interrupted)")
