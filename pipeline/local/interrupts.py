"""Ctrl-C and SIGTERM stop a run at once and leave nothing behind.

While a run is guarded, SIGINT (Ctrl-C, whether sent to the process group or
to the main process alone) and SIGTERM stop the DAG where it is: the
component that is running is abandoned, no later component (Pusher included)
starts, and the Beam worker processes the components started are terminated.
The exit code is 128 + the signal number (130 SIGINT, 143 SIGTERM).

An exception raised by a signal handler can be lost: if the signal lands
while the main thread runs a finalizer (`__del__`, a weakref callback: Python
prints "Exception ignored in" and goes on) or code that catches every
exception and carries on, the run would go on too. So until the run winds up,
the signal is delivered again every few seconds, and the interrupt a finalizer
lost is not reported as an error (sys.unraisablehook, while guarded): Python
would print its traceback under a stop that goes on as it should.
"""
from __future__ import annotations

import _thread
import logging
import signal
import sys
import threading
from typing import List, Optional

import psutil

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Logs the abandoned component's traceback as an error; an interrupt is no error.
_BEAM_STEP_LOGGER = "apache_beam.runners.common"
# Beam workers get this long to exit on SIGTERM before they are killed.
_CHILD_GRACE_SECONDS = 5.0
# A run that has not begun winding up this long after a signal lost its exception: it gets another.
# Longer than unwinding takes (under a second measured), so cleanup in `finally` blocks is not cut.
REDELIVER_SECONDS = 2.0


class RunInterrupted(BaseException):
    """The run was stopped by a signal. BaseException, like KeyboardInterrupt, so that no
    component's `except Exception` can swallow it."""

    def __init__(self, signum: int, summary_path: str = ""):
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        self.exit_code = 128 + signum
        where = f" (run summary: {summary_path})" if summary_path else ""
        super().__init__(f"stopped by {self.signal_name}; no component ran after it{where}")


def _children() -> List[psutil.Process]:
    try:
        return psutil.Process().children(recursive=True)
    except psutil.Error:
        return []


def terminate_children(grace_seconds: float = _CHILD_GRACE_SECONDS) -> List[int]:
    """SIGTERM to every descendant process, SIGKILL to those still alive after the grace; returns their pids."""
    children = _children()
    for child in children:
        try:
            child.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(children, timeout=grace_seconds)
    for child in alive:
        try:
            child.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=grace_seconds)
    return [child.pid for child in children]


def _quiet_thread_exception(args) -> None:
    """After an interrupt: a background thread's error is a consequence of stopping, not news."""


def _without_lost_interrupts(previous_hook):
    """sys.unraisablehook that drops a RunInterrupted a finalizer swallowed (the guard delivers the signal
    again) and passes everything else to previous_hook."""

    def hook(unraisable) -> None:
        if not (isinstance(unraisable.exc_type, type) and issubclass(unraisable.exc_type, RunInterrupted)):
            previous_hook(unraisable)

    return hook


class InterruptGuard:
    """Context manager: turns SIGINT/SIGTERM into RunInterrupted in the main thread.

    `signum` is the first signal received (None if none). Once `stopping()` is
    called (the run is being wound up: summary, cleanup), further signals are
    noted but no longer raise, so the summary still gets written.
    """

    def __init__(self):
        self.signum: Optional[int] = None
        self._winding_up = threading.Event()
        self._lock = threading.Lock()  # no redelivery is requested once winding up has begun
        self._previous = {}
        self._previous_unraisable_hook = None

    def _handle(self, signum, frame):
        if self.signum is None:
            self.signum = signum
            logging.getLogger(_BEAM_STEP_LOGGER).disabled = True
            # Beam's threads that watch the workers report their (expected) deaths; the process
            # is on its way out, so the hook stays until it exits.
            threading.excepthook = _quiet_thread_exception
            for child in _children():  # Beam workers stop now, not when the DAG unwinds
                try:
                    child.terminate()
                except psutil.Error:
                    pass
            threading.Thread(target=self._redeliver, args=(signum,), name="interrupt-redelivery", daemon=True).start()
        if not self._winding_up.is_set():
            raise RunInterrupted(signum)

    def _redeliver(self, signum: int) -> None:
        """Until the run winds up, the signal again (the main thread runs the handler) every REDELIVER_SECONDS."""
        while not self._winding_up.wait(REDELIVER_SECONDS):
            with self._lock:
                if self._winding_up.is_set():
                    return
                _thread.interrupt_main(signum)

    def _wind_up(self) -> None:
        with self._lock:
            self._winding_up.set()

    def stopping(self) -> None:
        """The run is winding up: signals no longer raise; after an interrupt, no child process outlives it."""
        self._wind_up()
        if self.signum is not None:
            terminate_children()

    def __enter__(self) -> "InterruptGuard":
        for signum in SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        self._previous_unraisable_hook = sys.unraisablehook
        sys.unraisablehook = _without_lost_interrupts(self._previous_unraisable_hook)
        return self

    def __exit__(self, *exc) -> bool:
        self._wind_up()
        logging.getLogger(_BEAM_STEP_LOGGER).disabled = False
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        sys.unraisablehook = self._previous_unraisable_hook
        return False
