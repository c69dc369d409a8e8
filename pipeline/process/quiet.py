"""Quiet by default, however the pipeline is started (make, the console script, `python -m pipeline`).

Applied by pipeline/process/startup.py's start(), before anything imports TensorFlow: TensorFlow's native log
level is read once, at its import, and every Beam worker process inherits it (and the warnings
setting) through the environment. What it hides is noise on a CPU machine: CUDA/cuDNN/TensorRT probes,
CPU-feature notices, end-of-data notes from tf.data, Python FutureWarnings of dependencies, and a
TypeError TensorFlow's function objects raise while the interpreter shuts down. `--verbose` (or an
explicit TF_CPP_MIN_LOG_LEVEL / PYTHONWARNINGS in the environment) shows everything.
"""
import logging
import os
import sys
import warnings


def _is_shutdown_noise(unraisable) -> bool:
    # TensorFlow's AtomicFunction.__del__ can run after the modules it calls were torn down.
    return getattr(unraisable.object, "__qualname__", "") == "AtomicFunction.__del__"


def quiet_by_default(argv=None) -> bool:
    """Returns True when it quieted the process (no --verbose on the command line)."""
    if "--verbose" in (sys.argv[1:] if argv is None else argv):
        return False
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # TensorFlow's Python-side deprecation notes (TFMA's readers call deprecated APIs).
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    if os.environ["PYTHONWARNINGS"] == "ignore":
        warnings.simplefilter("ignore")
    default_hook = sys.unraisablehook

    def hook(unraisable):
        if not _is_shutdown_noise(unraisable):
            default_hook(unraisable)

    sys.unraisablehook = hook
    return True
