"""Where a component's Beam work runs, read from its Beam args: in this process, or elsewhere."""
from __future__ import annotations

from typing import List

# Beam's DirectRunner modes that run the pipeline in the executor's own process.
IN_PROCESS_MODES = ("in_memory", "multi_threading")


def runs_in_this_process(beam_args: List[str]) -> bool:
    """Whether `beam_args` run Beam's DirectRunner in this process: no worker processes (multi_processing),
    no remote runner. A local run's data-size rule picks in_memory for small data
    (pipeline/process/beam_mode.py), and so does Beam when the args name no mode."""
    from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

    options = PipelineOptions(flags=list(beam_args))
    runner = (options.view_as(StandardOptions).runner or "DirectRunner").split(".")[-1]
    return runner in ("DirectRunner", "FnApiRunner") and options.view_as(DirectOptions).direct_running_mode in IN_PROCESS_MODES
