"""StatisticsGen's executor: in this process, the same files and artifact as TFX's Beam pipeline writes."""
import gzip
import os
import shutil

import pytest
from tfx.components.statistics_gen.executor import Executor as TfxStatisticsExecutor
from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
from tfx.types import standard_artifacts, standard_component_specs as specs
from tfx.types.artifact_utils import encode_split_names

from components.statistics import executor as statistics_executor
from components.statistics.executor import InProcessStatisticsExecutor

pytestmark = pytest.mark.real_images


def _artifact(kind, uri, split_names=None):
    made = kind()
    made.uri = str(uri)
    if split_names:
        made.split_names = encode_split_names(split_names)
    return made


def _compute(executor, examples, schema_dir, out_dir, **exec_properties):
    statistics = _artifact(standard_artifacts.ExampleStatistics, out_dir)
    os.makedirs(statistics.uri, exist_ok=True)
    inputs = {specs.EXAMPLES_KEY: [examples], specs.SCHEMA_KEY: [_artifact(standard_artifacts.Schema, schema_dir)]}
    executor.Do(inputs, {specs.STATISTICS_KEY: [statistics]}, {specs.EXCLUDE_SPLITS_KEY: "[]", **exec_properties})
    return statistics


def _files(root):
    return {os.path.relpath(os.path.join(folder, name), root): open(os.path.join(folder, name), "rb").read()
            for folder, _, names in os.walk(root) for name in names}


@pytest.fixture(scope="module")
def sample(transformed_sample, tmp_path_factory):
    """The real sample images as ImageFolderExampleGen ingests them, and the curated schema's folder."""
    run = transformed_sample()
    schema_dir = tmp_path_factory.mktemp("schema")
    shutil.copy(run.schema, schema_dir)
    return _artifact(standard_artifacts.Examples, run.ingested, ["train", "eval"]), str(schema_dir)


def test_in_process_statistics_are_tfx_beam_pipelines_byte_for_byte(sample, tmp_path, monkeypatch):
    examples, schema_dir = sample
    monkeypatch.setattr(statistics_executor, "RECORD_BATCH", 2)  # several batches per split, their accumulators merged
    in_memory = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]

    ours = _compute(InProcessStatisticsExecutor(BaseBeamExecutor.Context(beam_pipeline_args=in_memory)),
                    examples, schema_dir, tmp_path / "ours")
    tfx = _compute(TfxStatisticsExecutor(BaseBeamExecutor.Context(beam_pipeline_args=in_memory)),
                   examples, schema_dir, tmp_path / "tfx")

    files = _files(ours.uri)
    assert sorted(files) == [os.path.join("Split-eval", "FeatureStats.pb"), os.path.join("Split-train", "FeatureStats.pb")]
    assert files == _files(tfx.uri)
    assert ours.split_names == tfx.split_names and ours.span == tfx.span
    assert ours.mlmd_artifact.custom_properties == tfx.mlmd_artifact.custom_properties


def test_an_empty_split_has_the_statistics_tfx_gives_it(sample, tmp_path):
    _, schema_dir = sample
    folder = tmp_path / "examples" / "Split-train"
    folder.mkdir(parents=True)
    with gzip.open(folder / "data_tfrecord-00000-of-00001.gz", "wb"):
        pass
    examples = _artifact(standard_artifacts.Examples, tmp_path / "examples", ["train"])

    ours = _compute(InProcessStatisticsExecutor(), examples, schema_dir, tmp_path / "ours")
    tfx = _compute(TfxStatisticsExecutor(), examples, schema_dir, tmp_path / "tfx")

    assert _files(ours.uri) == _files(tfx.uri)


def test_exclude_splits_and_a_schema_in_two_places_are_handled_as_tfx_handles_them(sample, tmp_path):
    examples, schema_dir = sample
    ours = _compute(InProcessStatisticsExecutor(), examples, schema_dir, tmp_path / "ours",
                    **{specs.EXCLUDE_SPLITS_KEY: '["eval"]'})
    assert sorted(_files(ours.uri)) == [os.path.join("Split-train", "FeatureStats.pb")]

    import tensorflow_data_validation as tfdv
    from tfx.utils import io_utils

    options = tfdv.StatsOptions(schema=io_utils.SchemaReader().read(os.path.join(schema_dir, "schema.pbtxt")))
    with pytest.raises(ValueError, match="At most one of these may be set"):
        _compute(InProcessStatisticsExecutor(), examples, schema_dir, tmp_path / "twice",
                 **{specs.STATS_OPTIONS_JSON_KEY: options.to_json()})


@pytest.mark.parametrize("exec_properties", [
    {specs.SAMPLE_RATE_BY_SPLIT_KEY: '{"train": 0.5}'},
    {specs.STATS_OPTIONS_JSON_KEY: "sample_rate"},
], ids=["sample-rate-by-split", "stats-options"])
def test_sampling_and_stats_options_are_left_to_tfx_beam_pipeline(sample, tmp_path, monkeypatch, exec_properties):
    import tensorflow_data_validation as tfdv

    if exec_properties.get(specs.STATS_OPTIONS_JSON_KEY) == "sample_rate":
        exec_properties = {specs.STATS_OPTIONS_JSON_KEY: tfdv.StatsOptions(sample_rate=0.5).to_json()}
    examples, schema_dir = sample
    monkeypatch.setattr(statistics_executor, "split_statistics", None)  # a call would fail: the path not taken

    statistics = _compute(InProcessStatisticsExecutor(), examples, schema_dir, tmp_path / "out", **exec_properties)

    assert sorted(_files(statistics.uri)) == [os.path.join("Split-eval", "FeatureStats.pb"),
                                              os.path.join("Split-train", "FeatureStats.pb")]

