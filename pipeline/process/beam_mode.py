"""How the components' own Beam work runs on this machine, chosen from the size of the data.

Every multi-process DirectRunner worker is a fresh Python that imports TensorFlow: seconds of fixed
cost per component and worker, which dominates on small data. A small data set therefore runs
in-process (in_memory, one thread: multi_threading was 7 s faster at 915 images but wrote the
examples to shards in a different order every run, so the same data trained a different model); a
large one spreads over one worker process per CPU, streaming bundles through workers instead of one
process holding them. `beam_args` in the config (or --beam-args) overrides the choice; the run
prints which it took and why.

Whatever the mode (`prepare_local_beam`), a local runner gets no packaged copy of the code
(`package_code_for_remote_runners_only`), no in-process worker weighs side inputs for a cache
(`disable_beam_state_cache`), no pipeline is first offered to Beam's downloadable Prism runner
(`run_beam_on_fn_api_runner`), and no bundle ends waiting on a sleeping state sampler
(`shorten_state_sampling`).
"""
from __future__ import annotations

import os
from typing import List, Optional, Tuple

# In-process was faster in every Beam component at 915 images: ExampleGen, StatisticsGen, Transform and
# Evaluator (docs/benchmarks.md, "Horse-or-human: the pipeline next to the plain script", its first two
# columns). The bound itself is a judgement: the scaling runs ("How cost grows with the data") ran
# 2,000 images in-process and 8,000 multi-process, never both modes at one size.
IN_MEMORY_MAX_IMAGES = 3000
# The same bound for ready TFRecords, whose image count is unknown before reading them.
IN_MEMORY_MAX_BYTES = 512 * 1024 * 1024

IN_MEMORY_ARGS = ("--direct_running_mode=in_memory", "--direct_num_workers=1")


def choose_beam_args(images: Optional[int], data_bytes: int, cpus: Optional[int] = None) -> Tuple[List[str], str]:
    """(Beam args, the reason in words) for a data set of `images` files (None: unknown) and `data_bytes` bytes."""
    size = f"{images} images" if images is not None else f"{data_bytes / 2**20:.0f} MB of TFRecords"
    small = images <= IN_MEMORY_MAX_IMAGES if images is not None else data_bytes <= IN_MEMORY_MAX_BYTES
    if small:
        limit = f"{IN_MEMORY_MAX_IMAGES} images" if images is not None else f"{IN_MEMORY_MAX_BYTES // 2**20} MB"
        return list(IN_MEMORY_ARGS), f"in-process (in_memory): {size}, at most {limit}"
    workers = cpus or os.cpu_count() or 1
    return (["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"],
            f"multi_processing with {workers} worker processes: {size}")


def runs_locally(beam_args: List[str]) -> bool:
    """Whether `beam_args` run Beam on this machine, with the Python packages this process has."""
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    runner = PipelineOptions(flags=list(beam_args)).view_as(StandardOptions).runner
    return runner is None or runner.split(".")[-1] in StandardOptions.LOCAL_RUNNERS


def package_code_for_remote_runners_only() -> None:
    """Stops TFX's Beam executors from packaging TFX for a runner that runs on this machine.

    Unless the Beam args name the code's dependencies, TFX's BaseBeamExecutor adds
    `--extra_package=<an sdist of the whole TFX install>` for every Beam component: it copies the
    install (49 MB) into a new folder under the temp dir, runs `setup.py sdist` on it (2 s), and
    Beam then copies the sdist into another new folder to stage it. Neither folder is ever removed
    (hundreds of runs filled a disk), and a local DirectRunner, in-process or multi-process, runs the
    packages installed here and uses none of it. Naming the project's setup.py instead would only
    make Beam build an sdist of the project for every component. So for local runners (the laptop,
    and each Kubeflow component pod, whose DirectRunner runs the image's installed project) the Beam
    args go through unchanged; a remote runner (Dataflow, Flink) still gets TFX's own flags.
    Idempotent; call it in the process that runs the executors.
    """
    from tfx.utils import dependency_utils

    tfx_flags = dependency_utils.make_beam_dependency_flags
    if getattr(tfx_flags, "remote_runners_only", False):
        return

    def make_beam_dependency_flags(beam_pipeline_args: List[str]) -> List[str]:
        return list(beam_pipeline_args) if runs_locally(beam_pipeline_args) else tfx_flags(beam_pipeline_args)

    make_beam_dependency_flags.remote_runners_only = True
    dependency_utils.make_beam_dependency_flags = make_beam_dependency_flags


def disable_beam_state_cache() -> None:
    """Turns off the in-process Beam worker's cache of side inputs and user state.

    The cache (100 MB, fixed in Beam's worker_handlers) weighs every value it stores with objsize,
    which first walks the globals of every loaded module to exclude them, again for every side input
    a component reads (the Evaluator and each TFRecord sink read several): with TensorFlow, TFX and
    TFMA loaded, 4.4 s of samples in one profiled rock-paper-scissors run. Without the cache a side
    input is read from the runner's own memory, where it already is. Idempotent; call it in the
    process that runs the executors.
    """
    from apache_beam.runners.portability.fn_api_runner import worker_handlers

    worker_handlers.STATE_CACHE_SIZE_MB = 0


# The runner Beam's DirectRunner itself settles on for these pipelines once Prism is out of the way.
FN_API_RUNNER = "FnApiRunner"


def run_beam_on_fn_api_runner() -> None:
    """Makes the FnApiRunner the runner of every Beam pipeline in this process that names none.

    Beam's DirectRunner (2.74 here) first tries each pipeline on Prism, a Go runner it downloads from
    GitHub on first use, and falls back to the FnApiRunner when that fails. On a machine with internet
    access every component, and the BeamDagRunner's own pipeline, would run on Prism: another runner
    than the in-process or multi-process mode chosen and measured here, with its own threading. Without
    access, every pipeline's attempt starts a worker pool, fails and leaves an empty folder in the temp
    dir. The FnApiRunner honours direct_running_mode and direct_num_workers, and a runner named in the
    Beam args still wins. Idempotent; call it in the process that runs the pipelines.
    """
    from apache_beam.options.pipeline_options import StandardOptions

    StandardOptions.DEFAULT_RUNNER = FN_API_RUNNER


# How long Beam's state sampler sleeps between samples at most, in a process that runs the executors.
STATE_SAMPLING_PERIOD_MS = 10


def shorten_state_sampling() -> None:
    """Beam's state samplers sleep at most STATE_SAMPLING_PERIOD_MS between samples instead of 200 ms.

    Every bundle an SDK worker processes has a sampler thread that times its steps, sleeping between
    samples (from 2 ms up to the period); the bundle ends by joining that thread, so the worker waits
    out the sleep (apache_beam/runners/worker/statesampler_fast.pyx: stop, "May have to wait up to
    sampling_period_ms"). In one profiled local run the main thread spent 1.0 s of 64 in those joins,
    over the bundles of ExampleGen, StatisticsGen, Transform and the Evaluator. At 10 ms the sampler
    wakes 100 times a second without the GIL, and its step times stay as fine as Beam's metrics read
    them (msecs). Idempotent; call it in the process that runs the executors.
    """
    from apache_beam.runners.worker import statesampler

    statesampler.StateSampler.__init__.__defaults__ = (STATE_SAMPLING_PERIOD_MS,)


def prepare_local_beam() -> None:
    """The four settings above, for the process that runs the components' executors (the local
    runner, and each Kubeflow component's pod). Idempotent."""
    package_code_for_remote_runners_only()
    disable_beam_state_cache()
    run_beam_on_fn_api_runner()
    shorten_state_sampling()


def folder_bytes(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, name)) for name in files)
    return total
