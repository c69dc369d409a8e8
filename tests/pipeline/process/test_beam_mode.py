"""pipeline/process/beam_mode.py: small data runs in-process, large data spreads over worker processes."""
import tempfile

import pytest
from tfx.components.statistics_gen.executor import Executor as StatisticsGenExecutor
from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
from tfx.utils import dependency_utils

from pipeline.process.beam_mode import (IN_MEMORY_MAX_BYTES, IN_MEMORY_MAX_IMAGES, choose_beam_args, folder_bytes,
                                        package_code_for_remote_runners_only, runs_locally)


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


def test_the_direct_runner_in_any_mode_runs_locally_and_dataflow_does_not():
    assert runs_locally([])
    assert runs_locally(["--direct_running_mode=multi_processing", "--direct_num_workers=4"])
    assert runs_locally(["--runner=DirectRunner"])
    assert not runs_locally(["--runner=DataflowRunner", "--project=p", "--region=europe-west1"])


@pytest.mark.parametrize("mode", ["in_memory", "multi_processing"])
def test_a_tfx_beam_executor_on_a_local_runner_packages_nothing(tmp_path, monkeypatch, mode):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(dependency_utils, "make_beam_dependency_flags", dependency_utils.make_beam_dependency_flags)
    package_code_for_remote_runners_only()
    package_code_for_remote_runners_only()  # a second call changes nothing

    executor = StatisticsGenExecutor(BaseBeamExecutor.Context(beam_pipeline_args=[f"--direct_running_mode={mode}"]))

    assert not any(arg.startswith(("--extra_package", "--setup_file")) for arg in executor._beam_pipeline_args)
    assert list(tmp_path.iterdir()) == []  # no copy of TFX, no sdist


def test_a_remote_runner_still_gets_tfx_own_dependency_flags(monkeypatch):
    seen = []
    monkeypatch.setattr(dependency_utils, "make_beam_dependency_flags", lambda args: seen.append(args) or args + ["x"])
    package_code_for_remote_runners_only()
    remote = ["--runner=DataflowRunner", "--project=p", "--region=europe-west1"]

    assert dependency_utils.make_beam_dependency_flags(remote) == remote + ["x"] and seen == [remote]
    assert dependency_utils.make_beam_dependency_flags(["--direct_num_workers=1"]) == ["--direct_num_workers=1"]


def _side_input_sum(beam_args):
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.testing.util import assert_that, equal_to

    with beam.Pipeline(options=PipelineOptions(beam_args)) as pipeline:
        offsets = pipeline | "Offsets" >> beam.Create([10, 20])
        shifted = (pipeline | "Values" >> beam.Create([1, 2, 3])
                   | beam.Map(lambda v, o: v + sum(o), beam.pvalue.AsList(offsets)))
        assert_that(shifted, equal_to([31, 32, 33]))


def test_without_the_state_cache_side_inputs_are_read_and_never_weighed(monkeypatch):
    from apache_beam.runners.portability.fn_api_runner import worker_handlers
    from apache_beam.runners.worker import statecache

    from pipeline.process.beam_mode import IN_MEMORY_ARGS, disable_beam_state_cache

    weighed = []
    real = statecache.get_deep_size
    monkeypatch.setattr(statecache, "get_deep_size", lambda *objs: weighed.append(1) or real(*objs))
    monkeypatch.setattr(worker_handlers, "STATE_CACHE_SIZE_MB", 100)  # Beam's own value; restored afterwards
    _side_input_sum(list(IN_MEMORY_ARGS))
    assert weighed, "Beam's cache no longer weighs side inputs: disable_beam_state_cache may be obsolete"

    weighed.clear()
    disable_beam_state_cache()
    _side_input_sum(list(IN_MEMORY_ARGS))
    assert weighed == [] and worker_handlers.STATE_CACHE_SIZE_MB == 0


def test_pipelines_that_name_no_runner_are_never_offered_to_prism(monkeypatch):
    from apache_beam.options.pipeline_options import StandardOptions
    from apache_beam.runners.portability import prism_runner

    from pipeline.process.beam_mode import IN_MEMORY_ARGS, run_beam_on_fn_api_runner

    offered = []

    def offline_prism(self, pipeline, options):  # as on a machine without internet: the download fails
        offered.append(pipeline)
        raise RuntimeError("Unable to fetch remote prism binary")

    monkeypatch.setattr(prism_runner.PrismRunner, "run_pipeline", offline_prism)
    monkeypatch.setattr(StandardOptions, "DEFAULT_RUNNER", "DirectRunner")  # Beam's own default; restored after
    _side_input_sum(list(IN_MEMORY_ARGS))
    assert offered, "Beam's DirectRunner no longer tries Prism first: run_beam_on_fn_api_runner may be obsolete"

    offered.clear()
    run_beam_on_fn_api_runner()
    _side_input_sum(list(IN_MEMORY_ARGS))
    _side_input_sum([])  # the BeamDagRunner's own pipeline names no options at all
    assert offered == []
    assert runs_locally([]) and runs_locally(["--runner=FnApiRunner"])


def test_a_bundle_ends_without_waiting_out_a_200_ms_sampler_sleep(monkeypatch):
    from apache_beam.runners.worker import statesampler
    from apache_beam.utils.counters import CounterFactory

    from pipeline.process.beam_mode import IN_MEMORY_ARGS, STATE_SAMPLING_PERIOD_MS, shorten_state_sampling

    periods = []
    real_init = statesampler.StateSampler.__init__

    def recording_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        periods.append(self.sampling_period_ms)

    monkeypatch.setattr(statesampler.StateSampler.__init__, "__defaults__", (statesampler.DEFAULT_SAMPLING_PERIOD_MS,))
    assert statesampler.StateSampler("stage", CounterFactory()).sampling_period_ms == 200, (
        "Beam's state sampler no longer sleeps 200 ms: shorten_state_sampling may be obsolete")
    shorten_state_sampling()
    monkeypatch.setattr(statesampler.StateSampler, "__init__", recording_init)
    _side_input_sum(list(IN_MEMORY_ARGS))  # every bundle of a real pipeline gets the short period
    assert periods and set(periods) == {STATE_SAMPLING_PERIOD_MS}
