"""ImageFolderExampleGen: a FileBasedExampleGen whose executor reads class folders."""
from __future__ import annotations

from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2
from tfx.components import FileBasedExampleGen

from components.constants import EVAL_SPLIT, TRAIN_SPLIT
from components.ingestion.driver import ImageFolderDriver
from components.ingestion.executor import ImageFolderExecutor
from components.ingestion.settings import IngestionSettings

# The executor decides the split per subject, and the driver fingerprints every
# file the folder scan reads; the pattern only serves drivers that glob (Kubeflow's).
_FINGERPRINT_PATTERN = "*/*"


class ImageFolderExampleGen(FileBasedExampleGen):
    """TFX's FileBasedExampleGen with the image-folder driver (the executor is set per instance)."""

    DRIVER_CLASS = ImageFolderDriver


def image_folder_example_gen(data_dir: str, settings: IngestionSettings) -> FileBasedExampleGen:
    input_config = example_gen_pb2.Input(
        splits=[
            example_gen_pb2.Input.Split(name=TRAIN_SPLIT, pattern=_FINGERPRINT_PATTERN),
            example_gen_pb2.Input.Split(name=EVAL_SPLIT, pattern=_FINGERPRINT_PATTERN),
        ]
    )
    return ImageFolderExampleGen(
        input_base=data_dir,
        input_config=input_config,
        output_config=example_gen_pb2.Output(),
        custom_config=settings.to_custom_config(),
        custom_executor_spec=executor_spec.BeamExecutorSpec(ImageFolderExecutor),
    )
