"""The process settings, in one place: each entry point calls start() before it does any work.

Importing any module of this project changes nothing in the process (tests/test_imports.py checks
it). What a run needs set process-wide is applied here, in this order, by the console script and
`python -m pipeline` (pipeline/cli/main.py: main, after the arguments are read, so that `--help`
loads nothing), the Kubeflow component entrypoint (pipeline/kubeflow/entrypoint.py), the
benchmark scripts and the test session (tests/conftest.py). Measured against TensorFlow 2.16.2,
tf-keras 2.16.0, TFX 1.16.0, Apache Beam 2.74 and glibc's malloc; each has its canary test:

1. Quiet unless --verbose (pipeline/process/quiet.py; tests/e2e/test_promotion_gate.py, nothing that looks
   like an error): TensorFlow reads its native log level once, at its import, so this comes first.
2. glibc's malloc arenas capped at 2 (pipeline/process/memory.py; tests/pipeline/process/test_memory.py),
   before TensorFlow, Beam and gRPC start threads, and for the processes this one starts (Beam's
   workers) through MALLOC_ARENA_MAX.
3. The IRI grammar nothing here uses kept out of TFX's imports, and TFX's component package's
   `__init__` (every standard component) deferred until a name is taken from it
   (pipeline/process/lean_imports.py; tests/pipeline/process/test_lean_imports.py): before TFX is
   imported.
4. Keras 2 (tf-keras) as `tf.keras`, and AutoGraph told to leave tf_keras's code alone
   (pipeline/process/keras_env.py; tests/pipeline/process/test_keras_env.py): this imports TensorFlow,
   without the garbage collector, whose objects are then frozen out of its reach
   (pipeline/process/memory.py: imports_kept_out_of_gc; tests/pipeline/process/test_memory.py). Entry
   points that import more (the local runner's TFX and Beam) do it in the same block.
"""
from __future__ import annotations

import os
from typing import List, Optional


def start(argv: Optional[List[str]] = None) -> None:
    """Applies the process settings above; argv: the command line's arguments (for --verbose)."""
    from pipeline.process.keras_env import ensure_legacy_keras
    from pipeline.process.lean_imports import defer_package_init, skip_unused_iri_grammar
    from pipeline.process.memory import ARENAS, imports_kept_out_of_gc, limit_malloc_arenas
    from pipeline.process.quiet import quiet_by_default

    quiet_by_default(argv)
    limit_malloc_arenas()
    os.environ.setdefault("MALLOC_ARENA_MAX", str(ARENAS))  # the same cap for every child process
    skip_unused_iri_grammar()
    defer_package_init()
    with imports_kept_out_of_gc():
        ensure_legacy_keras()


def exit_without_teardown(code: int = 0) -> None:
    """Ends the process with `code` once the exit handlers have run, skipping the interpreter's teardown.

    Once TensorFlow has run, freeing every module, graph and traced function one by one took 4.7 s
    after a local run had printed its summary, and 4.3 s at the end of every Kubeflow pod (TFX's
    entrypoint imported, 2026-12-03), writing nothing. Exit handlers (atexit, logging's shutdown, and
    the weakref finalizers that remove temporary directories) still run, and both streams are flushed.
    """
    import atexit
    import sys

    atexit._run_exitfuncs()  # noqa: SLF001 (what a normal exit would run)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code or 0))
