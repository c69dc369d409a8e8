"""pipeline/process/memory.py: start() caps the malloc arenas, for its children too; a user's MALLOC_ARENA_MAX wins.
The objects of the big imports are frozen out of the garbage collector's walks, which stays on."""
import os
import subprocess
import sys

CODE = ("import os\nfrom pipeline.process.memory import limit_malloc_arenas\nprint(limit_malloc_arenas())\n"
        "from pipeline.process.startup import start\nstart([])\nprint(os.environ['MALLOC_ARENA_MAX'])")


def python(env_extra):
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    env.update(env_extra, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-W", "ignore", "-c", CODE], env=env, capture_output=True, text=True)


def test_the_cap_is_set_in_this_process_and_handed_to_the_processes_it_starts():
    result = python({})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "2"]


def test_malloc_arena_max_in_the_environment_is_left_to_glibc():
    result = python({"MALLOC_ARENA_MAX": "4"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "4"]


def test_start_leaves_the_collector_on_and_tensorflow_frozen_out_of_its_walks():
    code = ("import gc\nfrom pipeline.process.startup import start\nstart([])\n"
            "import tensorflow as tf\nwalked = lambda: any(o is tf.Tensor for o in gc.get_objects())\n"
            "print(gc.isenabled(), gc.get_freeze_count() > 100000, walked())\n"
            "gc.unfreeze()\nprint(walked())")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    # tf.Tensor's class is in no generation a collection walks until the objects are unfrozen.
    assert result.stdout.split() == ["True", "True", "False", "True"]


def test_imports_in_the_block_are_frozen_and_the_collectors_state_comes_back():
    import gc

    from pipeline.process.memory import imports_kept_out_of_gc

    was_enabled = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            with imports_kept_out_of_gc():
                assert not gc.isenabled()  # no collection while the block runs
                made = [[index] for index in range(1000)]  # tracked containers, as imports make
            assert gc.isenabled() is enabled
            # Still tracked, but in no generation a collection walks: frozen.
            assert gc.is_tracked(made[0]) and not any(made[0] is walked for walked in gc.get_objects())
    finally:
        gc.unfreeze()
        (gc.enable if was_enabled else gc.disable)()
