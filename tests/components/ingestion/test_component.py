"""components/ingestion/component.py: ImageFolderExampleGen, a FileBasedExampleGen with the window's own properties."""
from tfx.components import FileBasedExampleGen

from components.ingestion.component import image_folder_example_gen
from components.ingestion.settings import RUN_PARAMETERS, IngestionSettings


def test_span_and_window_spans_are_plain_execution_properties_of_the_component():
    component = image_folder_example_gen("/data", IngestionSettings(window_spans=3, span="2024-09-30"))

    assert isinstance(component, FileBasedExampleGen)  # what Kubeflow's compiler builds a driver for
    properties = {setting: component.exec_properties[prop] for setting, prop in RUN_PARAMETERS.items()}
    assert properties == {"span": "2024-09-30", "window_spans": 3}
    assert component.exec_properties["input_base"] == "/data"
