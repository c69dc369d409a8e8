"""components/trainer/warm_start_source.py: WarmStartSource, run by its real executor on real artifacts."""
import json
import os

from tfx.types import standard_artifacts

from components import constants
from components.model.warm_start import SOURCE_FILE
from components.serving.versions import PUSH_RECORD
from components.trainer.warm_start_source import SERVING_MODEL_FOLDER, WarmStartSource


def look_up(tmp_path, serving_dir, spans=None):
    """(warm_start_source.json, the output's folder) of one WarmStartSource run."""
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path / "examples")
    if spans:
        examples.set_json_value_custom_property(constants.SPAN_WINDOW_PROPERTY, spans)
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "source")
    WarmStartSource.EXECUTOR_SPEC.executor_class().Do(
        {"examples": [examples]}, {"model": [model]}, {"serving_dir": str(serving_dir), "serving_state": ""})
    with open(os.path.join(model.uri, SOURCE_FILE)) as handle:
        return json.load(handle), model.uri


def version(serving_dir, number, record=True):
    folder = serving_dir / str(number)
    folder.mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"model %d" % number)
    if record:
        (folder / PUSH_RECORD).write_text(json.dumps({"class_names": ["a", "b"], "spans": ["span-1"]}))


def test_the_highest_version_is_copied_with_its_push_record_and_the_runs_spans_noted(tmp_path):
    serving = tmp_path / "serving"
    version(serving, 1)
    version(serving, 2)

    source, folder = look_up(tmp_path, serving, spans=["span-1", "span-2"])

    assert source["version"] == 2 and source["why_not"] is None and source["run_spans"] == ["span-1", "span-2"]
    copied = os.path.join(folder, SERVING_MODEL_FOLDER)
    assert open(os.path.join(copied, "saved_model.pb"), "rb").read() == b"model 2"
    assert os.path.exists(os.path.join(copied, PUSH_RECORD))


def test_an_empty_serving_dir_or_an_unmanaged_served_folder_gives_no_model_and_says_why(tmp_path):
    empty, _ = look_up(tmp_path / "one", tmp_path / "nothing")
    serving = tmp_path / "serving"
    version(serving, 1)
    version(serving, 2, record=False)

    unmanaged, folder = look_up(tmp_path / "two", serving)

    assert empty["version"] is None and "nothing is serving" in empty["why_not"] and empty["run_spans"] is None
    assert unmanaged["version"] is None and "no push_record.json" in unmanaged["why_not"]
    assert not os.path.exists(os.path.join(folder, SERVING_MODEL_FOLDER))
