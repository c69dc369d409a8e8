"""How a component pod's own Beam work runs, chosen in the pod from the size of its data, by the local run's rule.

A spec compiled without --beam-args names no Beam mode; each pod then measures what it reads
(the images under ExampleGen's input_base, or the bytes of its `examples` input) and takes
pipeline/process/beam_mode.choose_beam_args: in-process for small data, one worker process per
CPU of the pod for large data. In-process spares every Beam task four worker processes that
each import TensorFlow (tens of seconds a task on small data). Beam args in the spec win.
"""
from __future__ import annotations

import os
from typing import List, Optional, Tuple

from components.constants import IMAGE_EXTENSIONS
from pipeline.process.beam_mode import choose_beam_args, folder_bytes

# Options that say how Beam runs: when the spec carries any of them, the pod follows the spec.
MODE_OPTIONS = ("--runner", "--direct_running_mode", "--direct_num_workers")


def pod_cpus() -> Optional[int]:
    """The CPUs the pod's limit allows (cgroup v2 cpu.max, else v1's quota), None when unlimited or unreadable.

    os.cpu_count() is the node's count, not the pod's.
    """
    try:
        with open("/sys/fs/cgroup/cpu.max") as handle:
            quota, period = handle.read().split()[:2]
        return None if quota == "max" else max(1, round(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as quota, open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as period:
            value = int(quota.read())
            return None if value <= 0 else max(1, round(value / int(period.read())))
    except (OSError, ValueError):
        return None


def count_images(folder: str) -> int:
    return sum(1 for _, _, names in os.walk(folder) for name in names if name.lower().endswith(IMAGE_EXTENSIONS))


def beam_args_for_pod(argv: List[str], executor_input: dict) -> Tuple[List[str], str]:
    """(Beam args to add to the task's arguments, the reason in words); none when the spec chose a mode."""
    if any(arg.split("=")[0] in MODE_OPTIONS for arg in argv):
        return [], "as compiled (--beam-args)"
    inputs = executor_input.get("inputs", {})
    input_base = inputs.get("parameterValues", {}).get("input_base")
    examples = inputs.get("artifacts", {}).get("examples", {}).get("artifacts", [])
    if input_base and os.path.isdir(input_base):
        args, why = choose_beam_args(count_images(input_base), 0, pod_cpus())
    elif examples and os.path.isdir(examples[0].get("uri", "")):
        args, why = choose_beam_args(None, folder_bytes(examples[0]["uri"]), pod_cpus())
    else:
        return [], "no data to size: Beam's defaults (in-process)"
    return args, why
