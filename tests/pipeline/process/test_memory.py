"""pipeline/process/memory.py: start() caps the malloc arenas, for its children too; a user's MALLOC_ARENA_MAX wins."""
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
