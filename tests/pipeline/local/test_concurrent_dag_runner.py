"""pipeline/local/concurrent_dag_runner.py: which node starts when, and where; failures and stops.

The schedule is driven here with launch functions that record what ran where; every whole local run
(tests/e2e) launches the real components through it, as the default runner.
"""
import concurrent.futures
import threading
import time

import pytest
from tfx.proto.orchestration import pipeline_pb2

from components import run_stop
from pipeline.local.concurrent_dag_runner import _Schedule

# The local pipeline's shape around the drift gate (pipeline/pipeline.py): the data gate and the drift gate wait
# for ExampleValidator, Transform for the data gate, the Trainer for all three.
DAG = [("ExampleValidator", []), ("DataValidationGate", ["ExampleValidator"]), ("DriftGate", ["ExampleValidator"]),
       ("Transform", ["DataValidationGate"]), ("Trainer", ["DataValidationGate", "Transform", "DriftGate"]),
       ("Evaluator", ["Trainer"])]


def nodes(dag=DAG):
    built = []
    for name, upstream in dag:
        node = pipeline_pb2.PipelineNode()
        node.node_info.id = name
        node.upstream_nodes.extend(upstream)
        built.append(node)
    return built


class Launches:
    """A launch function: each node's thread, start and end; `work` says what a node does instead of sleeping."""

    def __init__(self, work=None, seconds=0.3):
        self.work = work or {}
        self.seconds = seconds
        self.ran = {}
        self.lock = threading.Lock()

    def __call__(self, node):
        name, started = node.node_info.id, time.monotonic()
        self.work.get(name, lambda: time.sleep(self.seconds))()
        with self.lock:
            self.ran[name] = (threading.current_thread() is threading.main_thread(), started, time.monotonic())

    def overlap(self, one, other):
        return self.ran[one][1] < self.ran[other][2] and self.ran[other][1] < self.ran[one][2]


def schedule(launches, side_by_side=("DriftGate",), dag=DAG):
    run_stop.STOP.clear()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as beside:
        _Schedule(nodes(dag), frozenset(side_by_side), launches, beside).run()


def test_the_drift_gate_runs_beside_the_data_gate_and_transform_and_the_trainer_waits_for_all():
    launches = Launches(work={"DriftGate": lambda: time.sleep(0.5)})
    schedule(launches)

    assert list(launches.ran) != [] and set(launches.ran) == {name for name, _ in DAG}
    assert launches.overlap("DriftGate", "DataValidationGate") and launches.overlap("DriftGate", "Transform")
    assert not launches.ran["DriftGate"][0] and all(launches.ran[name][0] for name in launches.ran if name != "DriftGate")
    gates_and_transform = ("DriftGate", "DataValidationGate", "Transform")
    assert launches.ran["Trainer"][1] >= max(launches.ran[name][2] for name in gates_and_transform)
    assert launches.ran["DriftGate"][1] >= launches.ran["ExampleValidator"][2]


def test_without_side_by_side_nodes_every_node_runs_on_the_main_thread_one_after_another():
    launches = Launches(seconds=0.05)
    schedule(launches, side_by_side=())

    ordered = sorted(launches.ran.items(), key=lambda item: item[1][1])
    assert all(on_main for _, (on_main, _, _) in ordered)
    assert all(earlier[1][2] <= later[1][1] for earlier, later in zip(ordered, ordered[1:]))


def test_a_side_by_side_node_alone_ready_runs_on_the_main_thread():
    launches = Launches(seconds=0.05)
    schedule(launches, dag=[("ExampleValidator", []), ("DriftGate", ["ExampleValidator"]),
                            ("Trainer", ["DriftGate"])])

    assert launches.ran["DriftGate"][0]


def stops_when_asked(launches, name):
    """What the drift gate does: steps, asking between them whether the run is stopping."""
    def work():
        for _ in range(200):
            run_stop.stop_here(name)
            time.sleep(0.05)
        launches.finished_unasked = True
    return work


def test_a_failure_on_the_main_thread_stops_the_node_beside_it_and_is_raised_and_nothing_starts_after():
    def transform_fails():
        time.sleep(0.2)
        raise ValueError("Transform: bad preprocessing_fn")

    launches = Launches()
    launches.work = {"Transform": transform_fails, "DriftGate": stops_when_asked(launches, "DriftGate")}
    started = time.monotonic()
    with pytest.raises(ValueError, match="bad preprocessing_fn"):
        schedule(launches)

    assert time.monotonic() - started < 3  # the drift gate's 10 s of steps were cut at the next one
    assert not hasattr(launches, "finished_unasked")
    assert "Trainer" not in launches.ran and "Evaluator" not in launches.ran
    assert run_stop.STOP.is_set()


def test_an_interrupt_on_the_main_thread_stops_the_node_beside_it_and_waits_for_it():
    class Interrupted(BaseException):
        pass

    def interrupted():
        time.sleep(0.2)
        raise Interrupted()

    gate_ended = []

    def gate():
        try:
            stops_when_asked(launches, "DriftGate")()
        finally:
            gate_ended.append(time.monotonic())

    launches = Launches()
    launches.work = {"Transform": interrupted, "DriftGate": gate}
    with pytest.raises(Interrupted):
        schedule(launches)

    assert gate_ended, "the node beside was not waited for"
    assert "Trainer" not in launches.ran


def test_a_failure_beside_is_raised_once_the_main_node_ends_and_nothing_starts_after():
    def gate_fails():
        time.sleep(0.05)
        raise RuntimeError("DriftGate: span 3 drifted")

    launches = Launches()
    launches.work = {"DriftGate": gate_fails}
    with pytest.raises(RuntimeError, match="drifted"):
        schedule(launches)

    assert "DataValidationGate" in launches.ran  # it ran to its end on the main thread: what it made is cached
    assert "Trainer" not in launches.ran and "Evaluator" not in launches.ran


def test_on_data_both_gates_refuse_the_data_gates_failure_is_raised_and_the_drift_gate_stopped():
    # A class the schema does not know also shifts the class shares the drift gate compares: the data gate,
    # on the main thread, says so first, and the drift gate beside it is stopped at its next step.
    def anomalies():
        time.sleep(0.1)
        raise RuntimeError("DataValidationGate: the examples do not match the curated schema")

    launches = Launches()
    launches.work = {"DataValidationGate": anomalies, "DriftGate": stops_when_asked(launches, "DriftGate")}
    with pytest.raises(RuntimeError, match="curated schema"):
        schedule(launches)

    assert not hasattr(launches, "finished_unasked")
    assert not {"Transform", "Trainer", "Evaluator"} & set(launches.ran)


def test_the_gil_changes_hands_every_millisecond_only_while_a_node_runs_beside():
    import sys

    from pipeline.local.concurrent_dag_runner import BESIDE_SWITCH_INTERVAL_S

    default = sys.getswitchinterval()
    seen = {}

    def note(name):
        return lambda: seen.setdefault(name, sys.getswitchinterval()) and time.sleep(0.3)

    launches = Launches(work={name: note(name) for name, _ in DAG})
    schedule(launches)
    assert launches.overlap("DriftGate", "DataValidationGate") and not launches.ran["DriftGate"][0]
    assert seen["DriftGate"] == BESIDE_SWITCH_INTERVAL_S < default
    assert seen["ExampleValidator"] == seen["Trainer"] == seen["Evaluator"] == default  # no node beside them
    assert sys.getswitchinterval() == default
