"""components/ingestion/settings.py: the ingestion settings, their checks, and how they reach the executor."""
import pytest
from google.protobuf import json_format, struct_pb2
from tfx.components.example_gen import utils

from components.ingestion.settings import RUN_PARAMETERS, IngestionSettings
from components.settings_group import ConfigError


def custom_config_values(settings: IngestionSettings) -> dict:
    values = struct_pb2.Struct()
    settings.to_custom_config().custom_config.Unpack(values)
    return json_format.MessageToDict(values)


def test_a_negative_window_is_refused_naming_the_setting():
    with pytest.raises(ConfigError, match="window_spans must be 0"):
        IngestionSettings(window_spans=-1).validate()


def test_the_window_travels_as_execution_properties_of_its_own_not_in_the_custom_config():
    settings = IngestionSettings(window_spans=2, span="span-5", eval_fraction=0.3)

    values = custom_config_values(settings)
    assert not set(RUN_PARAMETERS) & set(values) and values["eval_fraction"] == 0.3
    assert settings.run_parameters() == {"newest_span": "span-5", "window_spans": 2}
    # TFX's ExampleGen driver writes its own span number into the property `span`.
    assert utils.SPAN_PROPERTY_NAME not in settings.run_parameters()


def test_the_executor_reads_the_window_from_its_execution_properties():
    settings = IngestionSettings(window_spans=2, span="span-5", folds=3)
    properties = {"custom_config": json_format.MessageToJson(settings.to_custom_config()), **settings.run_parameters()}

    assert IngestionSettings.from_exec_properties(properties) == settings
    # A run parameter the orchestrator set differently wins (a Kubeflow run's --span).
    assert IngestionSettings.from_exec_properties(dict(properties, newest_span="span-3")).span == "span-3"


def test_properties_without_the_window_read_as_every_span():
    properties = {"custom_config": json_format.MessageToJson(IngestionSettings().to_custom_config()),
                  utils.SPAN_PROPERTY_NAME: 0}  # as TFX's driver leaves it

    assert IngestionSettings.from_exec_properties(properties) == IngestionSettings()
