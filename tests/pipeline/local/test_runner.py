"""pipeline/local/runner.py: what a local run decides before its DAG starts."""
from pipeline.config import build_config
from pipeline.local.runner import _with_beam_args
from pipeline.process.beam_mode import choose_beam_args


def test_the_default_is_chosen_at_run_time_and_a_setting_wins(tmp_path):
    said = []
    assert build_config().beam_args == []  # nothing is fixed when the config is read
    small, large = _with_beam_args(build_config(), 915, said.append), _with_beam_args(build_config(), 10**6, said.append)
    assert small.beam_args == choose_beam_args(915, 0)[0] and large.beam_args == choose_beam_args(10**6, 0)[0]
    assert small.beam_args != large.beam_args  # chosen by the data the run finds
    setting = ["--direct_running_mode=multi_threading"]
    assert _with_beam_args(build_config(beam_args=setting), 10**6, said.append).beam_args == setting
    assert said[-1] == "beam: --direct_running_mode=multi_threading (as configured)"
