"""How the components' own Beam work runs on this machine, chosen from the size of the data.

Every multi-process DirectRunner worker is a fresh Python that imports TensorFlow: seconds of fixed
cost per component and worker, which dominates on small data. A small data set therefore runs
in-process (in_memory, one thread: multi_threading was 7 s faster at 915 images but wrote the
examples to shards in a different order every run, so the same data trained a different model); a
large one spreads over one worker process per CPU, streaming bundles through workers instead of one
process holding them. `beam_args` in the config (or --beam-args) overrides the choice; the run
prints which it took and why.

Whatever the mode, the args name the project's setup.py as the code's dependencies
(`with_dependencies`): without such a flag TFX's Beam executors build an sdist of the whole TFX
install for every Beam component of every run.
"""
from __future__ import annotations

import os
from typing import List, Optional, Tuple

# In-process measured faster in every Beam component at 915 images (README, Figures); the bound itself
# is a judgement: the scaling runs ran 2,000 images in-process and 8,000 multi-process, never both
# modes at one size.
IN_MEMORY_MAX_IMAGES = 3000
# The same bound for ready TFRecords, whose image count is unknown before reading them.
IN_MEMORY_MAX_BYTES = 512 * 1024 * 1024

IN_MEMORY_ARGS = ("--direct_running_mode=in_memory", "--direct_num_workers=1")

# The Beam options through which a pipeline names its code's dependencies. With none of them set,
# TFX's BaseBeamExecutor copies the TFX install (49 MB) into a new folder under the system temp dir
# and runs `setup.py sdist` on it (2 s) for every Beam component of every run, and never removes the
# copy: hundreds of runs filled the disk. The DirectRunner stages nothing (it runs the installed
# packages), and a remote runner needs the project itself, which its setup.py describes.
DEPENDENCY_OPTIONS = (
    "extra_packages", "setup_file", "requirements_file", "worker_harness_container_image", "sdk_container_image",
)


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


def with_dependencies(args: List[str], setup_file: str) -> List[str]:
    """`args`, plus --setup_file=`setup_file` unless they already name the code's dependencies."""
    from apache_beam.options.pipeline_options import PipelineOptions

    options = PipelineOptions(flags=list(args)).get_all_options()
    if any(options.get(name) for name in DEPENDENCY_OPTIONS):
        return list(args)
    return list(args) + [f"--setup_file={setup_file}"]


def folder_bytes(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, name)) for name in files)
    return total
