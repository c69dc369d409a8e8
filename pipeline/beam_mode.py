"""How the components' own Beam work runs on this machine, chosen from the size of the data.

Every multi-process DirectRunner worker is a fresh Python that imports TensorFlow: seconds of fixed
cost per component and worker, which dominates on small data. A small data set therefore runs
in-process (in_memory, one thread: multi_threading was 7 s faster at 915 images but wrote the
examples to shards in a different order every run, so the same data trained a different model); a
large one spreads over one worker process per CPU, streaming bundles through workers instead of one
process holding them. `beam_args` in the config (or --beam-args) overrides the choice; the run
prints which it took and why.
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


def folder_bytes(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, name)) for name in files)
    return total
