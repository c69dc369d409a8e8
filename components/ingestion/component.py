"""ImageFolderExampleGen: a FileBasedExampleGen whose executor reads class folders (or spans of them)."""
from __future__ import annotations

from tfx import types
from tfx.components.example_gen.component import FileBasedExampleGen
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts, standard_component_specs
from tfx.types.component_spec import ExecutionParameter

from components.constants import EVAL_SPLIT, GOLDEN_SPLIT, TRAIN_SPLIT
from components.ingestion.driver import ImageFolderDriver
from components.ingestion.executor import ImageFolderExecutor
from components.ingestion.settings import RUN_PARAMETERS, IngestionSettings

# The executor decides the split per subject, and the driver fingerprints every
# file the folder scan reads; the pattern only serves drivers that glob (Kubeflow's).
_FINGERPRINT_PATTERN = "*/*"
_RUN_PARAMETER_TYPES = {"span": str, "window_spans": int}  # by setting


class ImageFolderExampleGenSpec(standard_component_specs.FileBasedExampleGenSpec):
    """FileBasedExampleGen's spec plus the window of spans (IngestionSettings.RUN_PARAMETERS) as plain
    execution properties, which an orchestrator can make run parameters."""

    PARAMETERS = dict(
        standard_component_specs.FileBasedExampleGenSpec.PARAMETERS,
        **{prop: ExecutionParameter(type=_RUN_PARAMETER_TYPES[name]) for name, prop in RUN_PARAMETERS.items()},
    )


class ImageFolderExampleGen(FileBasedExampleGen):
    """TFX's FileBasedExampleGen with the image-folder driver and the span window's execution properties
    (the executor is set per instance). A FileBasedExampleGen still, which Kubeflow's compiler needs."""

    SPEC_CLASS = ImageFolderExampleGenSpec
    DRIVER_CLASS = ImageFolderDriver

    def __init__(self, input_base: str, input_config, custom_config, custom_executor_spec, newest_span: str = "",
                 window_spans: int = 0):
        # FileBasedExampleGen.__init__ builds its own spec class; this one holds two more properties.
        spec = ImageFolderExampleGenSpec(
            input_base=input_base,
            input_config=input_config,
            output_config=example_gen_pb2.Output(),
            custom_config=custom_config,
            range_config=None,
            output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
            output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
            newest_span=newest_span,
            window_spans=window_spans,
            examples=types.Channel(type=standard_artifacts.Examples),
        )
        base_beam_component.BaseBeamComponent.__init__(self, spec=spec, custom_executor_spec=custom_executor_spec)


def image_folder_example_gen(data_dir: str, settings: IngestionSettings) -> FileBasedExampleGen:
    # The input splits name the output's splits (TFX's Examples artifact takes its split names from them).
    splits = [TRAIN_SPLIT, EVAL_SPLIT] + ([GOLDEN_SPLIT] if settings.golden_dir else [])
    input_config = example_gen_pb2.Input(
        splits=[example_gen_pb2.Input.Split(name=name, pattern=_FINGERPRINT_PATTERN) for name in splits]
    )
    return ImageFolderExampleGen(
        input_base=data_dir,
        input_config=input_config,
        custom_config=settings.to_custom_config(),
        custom_executor_spec=executor_spec.BeamExecutorSpec(ImageFolderExecutor),
        **settings.run_parameters(),
    )
