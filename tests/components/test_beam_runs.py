"""Which Beam args run a component's Beam work in its own process."""
from components.beam_runs import runs_in_this_process


def test_only_a_local_runner_without_worker_processes_runs_in_this_process():
    assert runs_in_this_process([])  # Beam's default: the DirectRunner, in_memory
    assert runs_in_this_process(["--direct_running_mode=in_memory", "--direct_num_workers=1"])
    assert runs_in_this_process(["--runner=DirectRunner", "--direct_running_mode=multi_threading"])
    assert runs_in_this_process(["--runner=FnApiRunner"])
    assert not runs_in_this_process(["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    assert not runs_in_this_process(["--runner=DataflowRunner", "--project=p", "--region=europe-west1"])
