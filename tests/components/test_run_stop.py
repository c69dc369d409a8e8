"""components/run_stop.py: a component beside another stops itself once the run is stopping."""
import pytest

from components import run_stop


def test_stop_here_raises_only_once_the_run_is_stopping():
    run_stop.STOP.clear()
    run_stop.stop_here("DriftGate")
    run_stop.STOP.set()
    try:
        with pytest.raises(run_stop.RunStopped, match="DriftGate: stopped"):
            run_stop.stop_here("DriftGate")
    finally:
        run_stop.STOP.clear()
