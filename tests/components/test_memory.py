"""components/memory.py: the malloc arena cap is set at import, and a user's MALLOC_ARENA_MAX wins."""
import os
import subprocess
import sys

CODE = "import components; from components.memory import limit_malloc_arenas; print(limit_malloc_arenas())"


def python(env_extra):
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    env.update(env_extra, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-W", "ignore", "-c", CODE], env=env, capture_output=True, text=True)


def test_the_cap_is_set_when_the_package_is_imported_and_setting_it_again_succeeds():
    result = python({})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True"]


def test_malloc_arena_max_in_the_environment_is_left_to_glibc():
    result = python({"MALLOC_ARENA_MAX": "4"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False"]
