"""pipeline/config.py: defaults <- YAML file <- flags, and clear errors for bad settings."""
import dataclasses
import os
import re

import pytest

from components.drift.settings import DriftSettings
from components.ingestion.settings import IngestionSettings
from components.model.settings import TrainerSettings
from components.promotion.settings import PromotionSettings
from components.promotion.thresholds import GateThresholds
from components.transform.settings import TransformSettings
from pipeline.config import GROUPS, VALUE_KINDS, ConfigError, PipelineConfig, build_config


@pytest.fixture(autouse=True)
def no_data_dir_env(monkeypatch):
    monkeypatch.delenv("DATA_DIR", raising=False)


@pytest.fixture
def yaml_file(tmp_path):
    def write(text):
        path = tmp_path / "settings.yaml"
        path.write_text(text)
        return str(path)

    return write


def test_yaml_overrides_defaults_and_flags_override_yaml(yaml_file):
    path = yaml_file("eval_fraction: 0.3\nepochs: 7\nrunner: local\n")

    config = build_config(path, epochs=2, runner=None, batch_size=None)

    assert (config.eval_fraction, config.epochs, config.runner) == (0.3, 2, "local")
    assert config.batch_size == PipelineConfig().batch_size


def test_flag_that_turns_cache_off_is_not_mistaken_for_unset(yaml_file):
    assert build_config(yaml_file("enable_cache: true\n"), enable_cache=False).enable_cache is False


def test_data_dir_env_is_used_only_when_neither_flag_nor_yaml_set_it(monkeypatch, yaml_file):
    monkeypatch.setenv("DATA_DIR", "/data/from-env")

    assert build_config().data_dir == "/data/from-env"
    assert build_config(data_dir="/data/from-flag").data_dir == "/data/from-flag"
    assert build_config(yaml_file("data_dir: /data/from-yaml\n")).data_dir == "/data/from-yaml"


def test_unknown_yaml_key_names_the_key_and_the_file(yaml_file):
    path = yaml_file("eval_fraction: 0.2\nepoch: 3\n")

    with pytest.raises(ConfigError) as raised:
        build_config(path)

    message = str(raised.value)
    assert path in message and "unknown setting(s) epoch;" in message and "epochs" in message


@pytest.mark.parametrize(
    "text, says",
    [("eval_fraction: [0.2\n", "not valid YAML"), ("- epochs\n- 3\n", "must hold a mapping")],
)
def test_malformed_yaml_is_a_config_error_naming_the_file(yaml_file, text, says):
    path = yaml_file(text)

    with pytest.raises(ConfigError, match=says) as raised:
        build_config(path)

    assert path in str(raised.value)


def test_missing_yaml_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="does not exist") as raised:
        build_config(str(tmp_path / "nope.yaml"))

    assert str(tmp_path / "nope.yaml") in str(raised.value)


@pytest.mark.parametrize(
    "setting, says",
    [
        ({"eval_fraction": 0.0}, "eval_fraction must be between 0 and 1 (exclusive), got 0.0"),
        ({"eval_fraction": 1.5}, "got 1.5"),
        ({"runner": "spark"}, "runner must be 'concurrent' or 'beam' or 'local', got 'spark'"),
        ({"input_format": "csv"}, "input_format must be 'images' or 'tfrecord', got 'csv'"),
        ({"epochs": -1}, "epochs must be >= 0"),
        ({"batch_size": 0}, "batch_size >= 1"),
        ({"max_image_pixels": 100}, "max_image_pixels must be at least 22500, got 100"),
        ({"augment_hue": 0.6}, "augment_hue must be within [0, 0.5] (a fraction of the colour wheel)"),
        ({"augment_saturation": -0.1}, "augment_saturation within [0, 1), got 0.0 and -0.1"),
        ({"image_size": 64}, "image_size must be a whole number of pixels from 75 to 512 (the least InceptionV3 takes is 75), got 64"),
        ({"image_size": 1024}, "from 75 to 512 (the least InceptionV3 takes is 75), got 1024"),
        ({"schema_path": "/no/such/schema.pbtxt"}, "schema file /no/such/schema.pbtxt does not exist"),
        ({"baseline_policy": "first"}, "baseline_policy must be one of latest, best_kept, got 'first'"),
        ({"force_push": True}, "force_push needs a reason: add --reason TEXT"),
        ({"force_push": True, "force_push_reason": "  "}, "force_push needs a reason"),
        ({"force_push_reason": "labels changed"}, "without --force-push"),
        ({"accept_drift": True}, "accept_drift needs a reason: add --reason TEXT"),
        ({"accept_drift_reason": "new camera"}, "without --accept-drift"),
        ({"serving_dir": "gs://bucket/serving"}, "serving_dir gs://bucket/serving: pushes need a file lock"),
    ],
)
def test_bad_values_are_rejected_with_the_value_and_the_rule(setting, says):
    with pytest.raises(ConfigError) as raised:
        build_config(**setting)

    assert says in str(raised.value)


@pytest.mark.parametrize("text", ["eval_fraction: lots\n", "epochs: five\n", "accuracy_threshold: high\n",
                                  "keep_versions: 2.5\n"])
def test_wrong_type_in_yaml_is_a_config_error_naming_the_setting(yaml_file, text):
    with pytest.raises(ConfigError, match=text.split(":")[0]):
        build_config(yaml_file(text))


def test_absolute_makes_local_paths_absolute_and_leaves_uris(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    config = PipelineConfig(output_dir="out", data_dir="gs://bucket/images").absolute()

    assert config.output_dir == str(tmp_path / "out")
    assert config.data_dir == "gs://bucket/images"
    assert config.metadata_path == os.path.join(str(tmp_path / "out"), "metadata.sqlite")


@pytest.mark.parametrize("folds, eval_fold", [(1, 0), (-2, 0), (5, 5), (5, -1), (0, 1)])
def test_folds_off_or_at_least_two_with_the_held_out_one_among_them(folds, eval_fold):
    with pytest.raises(ConfigError, match=f"folds must be 0 .off. or at least 2.*got folds {folds} and eval_fold {eval_fold}"):
        PipelineConfig(folds=folds, eval_fold=eval_fold).validate()


def test_an_unknown_comparison_policy_is_refused_naming_the_choices():
    with pytest.raises(ConfigError, match="comparison_policy must be one of not_worse, better, point, got 'strict'"):
        PipelineConfig(comparison_policy="strict").validate()


def test_the_config_is_the_union_of_the_groups_each_setting_declared_in_one_of_them_or_the_run():
    assert set(GROUPS) == {GateThresholds, IngestionSettings, DriftSettings, TrainerSettings, PromotionSettings}
    declared = [field.name for group in GROUPS for field in dataclasses.fields(group)]
    assert len(declared) == len(set(declared))  # no setting in two groups
    redeclared = {field.name for field in dataclasses.fields(PipelineConfig)
                  if field.name in declared and field.name in PipelineConfig.__dict__.get("__annotations__", {})}
    assert redeclared == set()


def test_every_declared_type_is_one_the_yaml_and_flag_check_knows():
    assert {field.name: field.type for field in dataclasses.fields(PipelineConfig) if field.type not in VALUE_KINDS} == {}


@pytest.mark.parametrize(
    "group, values, says",
    [
        (IngestionSettings, {"eval_fraction": 1.0}, "eval_fraction must be between 0 and 1"),
        (TrainerSettings, {"lr_schedule": "step"}, "lr_schedule must be one of constant, cosine, got 'step'"),
        (TransformSettings, {"image_size": 74}, "image_size must be a whole number of pixels from 75 to 512"),
        (TrainerSettings, {"image_size": 513}, "image_size must be a whole number of pixels from 75 to 512"),
        (GateThresholds, {"max_class_recall_drop": 1.5}, "max_class_recall_drop must be within [0, 1], got 1.5"),
        (PromotionSettings, {"keep_versions": 0}, "keep_versions must be at least 1, got 0"),
        (PromotionSettings, {"force_push": True}, "force_push needs a reason"),
    ],
)
def test_each_group_checks_its_own_settings_and_the_config_runs_those_checks(group, values, says):
    with pytest.raises(ConfigError, match=re.escape(says)):
        group(**values).validate()
    with pytest.raises(ConfigError, match=re.escape(says)):
        PipelineConfig(**values).validate()


def test_a_group_read_from_a_components_config_takes_the_declared_default_for_what_is_absent():
    settings = PromotionSettings.from_dict({"keep_versions": 5, "pipeline_name": "not a promotion setting"})

    assert settings == PromotionSettings(keep_versions=5)
    assert settings.baseline_policy == PipelineConfig().baseline_policy


def test_a_dated_span_in_yaml_is_the_span_name_not_a_date(yaml_file):
    # YAML reads an unquoted 2024-09-30 as a date; the setting is the span folder's name.
    config = build_config(yaml_file("span: 2024-09-30\nwindow_spans: 2\n"))

    assert (config.span, config.window_spans) == ("2024-09-30", 2)
