"""A local DAG runner that runs a component beside another when both are ready, as Kubeflow does.

TFX's LocalDagRunner launches its nodes one after another (tfx/orchestration/local/local_dag_runner.py,
with the TODO b/171319478 to run independent ones in parallel) and its BeamDagRunner runs them as the
stages of one in-process Beam pipeline, also one at a time. On two cores most components leave one
idle; the drift gate (mostly building the frozen base and running it) waits for ExampleValidator alone,
so here it runs beside the data gate and Transform (tracing its graph).

The rules, so that a run stops as it does on TFX's runners:

- Every node is launched by TFX's own Launcher (driver, cache, executor, publisher), in topological
  order, the same IR and deployment config LocalDagRunner uses.
- Only the nodes named `side_by_side` (components/run_stop.py: STOPPABLE_NODES) ever run off the main
  thread, and only while another node runs on it; their executors must return soon once
  `run_stop.STOP` is set (they ask `run_stop.stop_here`). Every other node runs on the main thread,
  where Ctrl-C and SIGTERM reach it (pipeline/local/interrupts.py).
- ML Metadata is used by one launcher at a time: each launcher's connection is entered under one lock
  (the SQLite store then sees one writer, as with LocalDagRunner).
- A node fails: no node starts after it; one still running beside it is asked to stop and waited for;
  the first failure is raised. An interrupt is handled the same way.
"""
from __future__ import annotations

import concurrent.futures
import datetime
import sys
import threading
from typing import Collection, Dict, List, Optional

from absl import logging
from tfx.dsl.compiler import constants
from tfx.orchestration import metadata
from tfx.orchestration.local import runner_utils
from tfx.orchestration.portable import launcher, runtime_parameter_utils, tfx_runner
from tfx.proto.orchestration import pipeline_pb2

from components import run_stop


# How often the GIL changes hands while a node runs beside the main thread (Python's default: 5 ms). The
# node beside mostly waits on TensorFlow ops, which let go of the GIL, and each op's end waited up to the
# whole interval for it back while the main thread ran Python: reading 915 examples one op at a time took
# 8.1 s beside a busy thread at 5 ms, 1.7 s at 1 ms (0.2 s alone).
BESIDE_SWITCH_INTERVAL_S = 0.001


class _OneAtATime(metadata.Metadata):
    """A Launcher's ML Metadata connection, entered by one launcher at a time in this process."""

    _lock = threading.RLock()

    def __enter__(self) -> "_OneAtATime":
        self._lock.acquire()
        try:
            return super().__enter__()
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            self._lock.release()


class ConcurrentDagRunner(tfx_runner.IrBasedRunner):
    """LocalDagRunner's launches, with the nodes of `side_by_side` run beside the node on the main thread."""

    def __init__(self, side_by_side: Collection[str] = ()):
        self.side_by_side = frozenset(side_by_side)

    def run_with_ir(self, pipeline: pipeline_pb2.Pipeline,
                    run_options: Optional[pipeline_pb2.RunOptions] = None) -> None:
        if run_options is not None:
            raise ValueError("partial runs are LocalDagRunner's (runner: local)")
        runtime_parameter_utils.substitute_runtime_parameter(
            pipeline, {constants.PIPELINE_RUN_ID_PARAMETER_NAME: datetime.datetime.now().isoformat()})
        deployment_config = runner_utils.extract_local_deployment_config(pipeline)
        connection = deployment_config.metadata_connection_config
        connection_config = getattr(connection, connection.WhichOneof("connection_config"))

        def launch(node: pipeline_pb2.PipelineNode) -> None:
            node_id = node.node_info.id
            launcher.Launcher(
                pipeline_node=node, mlmd_connection=_OneAtATime(connection_config),
                pipeline_info=pipeline.pipeline_info, pipeline_runtime_spec=pipeline.runtime_spec,
                executor_spec=runner_utils.extract_executor_spec(deployment_config, node_id),
                custom_driver_spec=runner_utils.extract_custom_driver_spec(deployment_config, node_id),
            ).launch()

        nodes = [node.pipeline_node for node in pipeline.nodes if not node.pipeline_node.execution_options.HasField("skip")]
        run_stop.STOP.clear()
        with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="beside") as beside:
            _Schedule(nodes, self.side_by_side, launch, beside).run()


class _Schedule:
    """One run's order: which node starts when, and where."""

    def __init__(self, nodes: List[pipeline_pb2.PipelineNode], side_by_side: frozenset, launch,
                 beside: concurrent.futures.ThreadPoolExecutor):
        self.pending = list(nodes)  # topological order, as the IR lists them
        self.side_by_side = side_by_side
        self.launch = launch
        self.beside = beside
        self.done: set = set()
        self.running: Dict[concurrent.futures.Future, str] = {}

    def _ready(self) -> List[pipeline_pb2.PipelineNode]:
        return [node for node in self.pending if set(node.upstream_nodes) <= self.done]

    def _take(self, node: pipeline_pb2.PipelineNode) -> pipeline_pb2.PipelineNode:
        self.pending.remove(node)
        return node

    def run(self) -> None:
        try:
            while self.pending or self.running:
                self._collect(block=False)
                ready = self._ready()
                main = [node for node in ready if node.node_info.id not in self.side_by_side]
                if main and not self.running:  # the main thread has work: one side-by-side node goes beside it
                    spare = next((node for node in ready if node.node_info.id in self.side_by_side), None)
                    if spare is not None:
                        node = self._take(spare)
                        logging.info("Component %s is running beside the main thread.", node.node_info.id)
                        self.running[self.beside.submit(self._launch_beside, node)] = node.node_info.id
                if ready and (main or not self.running):
                    node = self._take(main[0] if main else ready[0])
                    self.launch(node)
                    self.done.add(node.node_info.id)
                elif self.running:
                    self._collect(block=True)
                elif self.pending:
                    raise RuntimeError("no node can start: " + ", ".join(node.node_info.id for node in self.pending))
        except BaseException:
            self._stop_beside()
            raise

    def _launch_beside(self, node: pipeline_pb2.PipelineNode) -> None:
        """launch(node) off the main thread, the GIL changing hands every BESIDE_SWITCH_INTERVAL_S meanwhile."""
        previous = sys.getswitchinterval()
        sys.setswitchinterval(BESIDE_SWITCH_INTERVAL_S)
        try:
            self.launch(node)
        finally:
            sys.setswitchinterval(previous)

    def _collect(self, block: bool) -> None:
        """Marks finished side-by-side nodes done; raises the first one's failure."""
        if not self.running:
            return
        finished, _ = concurrent.futures.wait(list(self.running), timeout=None if block else 0,
                                              return_when=concurrent.futures.FIRST_COMPLETED)
        for future in finished:
            node_id = self.running.pop(future)
            future.result()  # its failure stops the run, as a failure on the main thread does
            self.done.add(node_id)

    def _stop_beside(self) -> None:
        """A failure or an interrupt: what runs beside is asked to stop and waited for. A signal delivered
        again meanwhile (interrupts.py redelivers until the run winds up) does not cut the wait short."""
        run_stop.STOP.set()
        for future in list(self.running):
            while True:
                try:
                    concurrent.futures.wait([future])
                    break
                except BaseException:  # noqa: BLE001 (the run is already stopping for the first one)
                    continue
        self.running.clear()
