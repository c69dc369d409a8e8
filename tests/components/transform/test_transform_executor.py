"""components/transform/executor.py: TFX's Transform executor, run for real, writing plain TFRecords."""
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from tfx import v1 as tfx
from tfx.components.transform import executor as tfx_transform_executor
from tfx.types import standard_artifacts, standard_component_specs
from tfx.types.artifact_utils import encode_split_names

from components import constants
from components.ingestion.component import image_folder_example_gen
from components.ingestion.executor import ImageFolderExecutor
from components.ingestion.settings import IngestionSettings
from components.transform.executor import OUTPUT_SUFFIX, UncompressedTransform, UncompressedTransformExecutor
from pipeline.config import DEFAULT_GROUP_PATTERN, DEFAULT_SCHEMA_DIR
from pipeline.pipeline import PREPROCESSING_FN

def artifact(kind, root, name):
    made = kind()
    made.uri = str(root / name)
    os.makedirs(made.uri, exist_ok=True)
    return made


@pytest.fixture(scope="module")
def transformed(real_image_folder_factory, tmp_path_factory):
    data_dir = real_image_folder_factory()
    root = tmp_path_factory.mktemp("transform")
    examples = artifact(standard_artifacts.Examples, root, "examples")
    settings = IngestionSettings(DEFAULT_GROUP_PATTERN, 0.5, "test-seed", 4096 * 4096)
    gen = image_folder_example_gen(str(data_dir), settings)
    ImageFolderExecutor().Do({}, {standard_component_specs.EXAMPLES_KEY: [examples]},
                             {k: v for k, v in gen.exec_properties.items() if v is not None})
    examples.split_names = encode_split_names(["train", "eval"])
    schema = artifact(standard_artifacts.Schema, root, "schema")
    shutil.copy(os.path.join(DEFAULT_SCHEMA_DIR, "horse_or_human", "schema.pbtxt"), schema.uri)
    outputs = {
        standard_component_specs.TRANSFORM_GRAPH_KEY: [artifact(standard_artifacts.TransformGraph, root, "graph")],
        standard_component_specs.TRANSFORMED_EXAMPLES_KEY: [artifact(standard_artifacts.Examples, root, "transformed")],
        standard_component_specs.UPDATED_ANALYZER_CACHE_KEY: [artifact(standard_artifacts.TransformCache, root, "cache")],
    }
    schema_import = tfx.components.ImportSchemaGen(schema_file=os.path.join(schema.uri, "schema.pbtxt"))
    component = UncompressedTransform(examples=gen.outputs["examples"], schema=schema_import.outputs["schema"],
                                      preprocessing_fn=PREPROCESSING_FN, disable_statistics=True)
    exec_properties = {k: v for k, v in component.exec_properties.items() if v is not None}

    UncompressedTransformExecutor().Do(
        {standard_component_specs.EXAMPLES_KEY: [examples], standard_component_specs.SCHEMA_KEY: [schema]},
        outputs, exec_properties)

    return outputs[standard_component_specs.TRANSFORMED_EXAMPLES_KEY][0].uri


def test_transformed_examples_are_plain_tfrecords_of_model_ready_images(transformed):
    images = []
    for split in ("train", "eval"):
        files = tf.io.gfile.glob(f"{transformed}/Split-{split}/*")
        assert files and all(path.endswith(OUTPUT_SUFFIX) for path in files), files
        for record in tf.data.TFRecordDataset(files):  # no compression: a gzip file would not parse
            feature = tf.train.Example.FromString(record.numpy()).features.feature
            images.append(np.array(feature[constants.TRANSFORMED_IMAGE_KEY].float_list.value))
            assert feature[constants.TRANSFORMED_LABEL_KEY].int64_list.value[0] in (0, 1)

    assert len(images) >= 4
    assert all(image.size == constants.IMAGE_HEIGHT * constants.IMAGE_WIDTH * constants.IMAGE_CHANNELS for image in images)
    assert all(-1.0 - 1e-5 <= image.min() and image.max() <= 1.0 + 1e-5 for image in images), [(i.min(), i.max()) for i in images]
    assert all(image.std() > 0.05 for image in images)  # pictures, not blank canvases


def test_tfx_own_processor_is_back_in_place_after_the_run(transformed):
    assert tfx_transform_executor.TransformProcessor.__name__ == "TransformProcessor"
