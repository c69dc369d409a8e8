"""pipeline/beam_mode.py: small data runs in-process, large data spreads over worker processes."""
from pipeline.beam_mode import IN_MEMORY_MAX_BYTES, IN_MEMORY_MAX_IMAGES, choose_beam_args, folder_bytes
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
