"""pipeline/beam_mode.py: small data runs in-process, large data spreads over worker processes."""
import tempfile

import pytest
from tfx.components.statistics_gen.executor import Executor as StatisticsGenExecutor
from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor

from pipeline.beam_mode import (IN_MEMORY_ARGS, IN_MEMORY_MAX_BYTES, IN_MEMORY_MAX_IMAGES, choose_beam_args,
                                folder_bytes, with_dependencies)
from pipeline.config import build_config


def test_small_image_sets_run_in_process_and_say_why():
    args, why = choose_beam_args(915, 0)

    assert args == ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
    assert why == f"in-process (in_memory): 915 images, at most {IN_MEMORY_MAX_IMAGES} images"


def test_large_image_sets_get_one_worker_process_per_cpu():
    args, why = choose_beam_args(IN_MEMORY_MAX_IMAGES + 1, 0, cpus=6)

    assert args == ["--direct_running_mode=multi_processing", "--direct_num_workers=6"]
    assert why.startswith("multi_processing with 6 worker processes")


def test_tfrecords_are_judged_by_their_size(tmp_path):
    (tmp_path / "part-0.tfrecord").write_bytes(b"x" * 1000)

    assert folder_bytes(str(tmp_path)) == 1000
    assert choose_beam_args(None, 1000)[0][0] == "--direct_running_mode=in_memory"
    assert choose_beam_args(None, IN_MEMORY_MAX_BYTES + 1, cpus=2)[0][0] == "--direct_running_mode=multi_processing"


def test_the_default_is_chosen_at_run_time_and_a_setting_wins(tmp_path):
    assert build_config().beam_args == []
    assert build_config(beam_args=["--direct_running_mode=multi_threading"]).beam_args == ["--direct_running_mode=multi_threading"]


def test_the_project_setup_file_names_the_dependencies_unless_the_args_already_do():
    assert with_dependencies(list(IN_MEMORY_ARGS), "/src/setup.py") == [*IN_MEMORY_ARGS, "--setup_file=/src/setup.py"]
    for named in (["--setup_file=/other/setup.py"], ["--extra_package", "/dist/pkg.tar.gz"],
                  ["--requirements_file=req.txt"], ["--sdk_container_image=registry/image:1"]):
        assert with_dependencies(named, "/src/setup.py") == named


@pytest.mark.parametrize("mode", ["in_memory", "multi_processing"])
def test_a_tfx_beam_executor_given_these_args_builds_no_copy_of_tfx(tmp_path, monkeypatch, mode):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    args = with_dependencies([f"--direct_running_mode={mode}"], "/src/setup.py")

    executor = StatisticsGenExecutor(BaseBeamExecutor.Context(beam_pipeline_args=args))

    assert "--setup_file=/src/setup.py" in executor._beam_pipeline_args
    assert not any(arg.startswith("--extra_package") for arg in executor._beam_pipeline_args)
    assert list(tmp_path.iterdir()) == []
