"""Fixtures the components' tests share: the real sample images through ingestion and the Transform
(transform/, trainer/); tiny real SavedModels, and versions pushed the way the Pusher pushes them
(promotion/, serving/)."""
import os
import shutil
from typing import NamedTuple

import pytest

from components import constants

HORSES_HUMANS = ["horses", "humans"]


class TransformRun(NamedTuple):
    ingested: str  # the tf.Examples ImageFolderExampleGen wrote (Split-train/, Split-eval/), what the Trainer reads
    graph: str  # the transform graph's URI, what the Trainer's run_fn reads as transform_output
    schema: str  # the schema file the Transform was given


def run_transform(data_dir, root, image_size) -> TransformRun:
    """ImageFolderExampleGen's and the Transform's executors run for real on data_dir, as the pipeline
    wires them (the horse-or-human schema, half the subjects in eval; the Transform writes its graph
    alone), writing under root."""
    from tfx import v1 as tfx
    from tfx.components.transform.component import Transform
    from tfx.components.transform.executor import Executor as TransformExecutor
    from tfx.proto import transform_pb2
    from tfx.types import standard_artifacts, standard_component_specs
    from tfx.types.artifact_utils import encode_split_names

    from components.ingestion.component import image_folder_example_gen
    from components.ingestion.executor import ImageFolderExecutor
    from components.ingestion.settings import IngestionSettings
    from pipeline.config import DEFAULT_GROUP_PATTERN, DEFAULT_SCHEMA_DIR
    from pipeline.pipeline import PREPROCESSING_FN

    def artifact(kind, name):
        made = kind()
        made.uri = str(root / name)
        os.makedirs(made.uri, exist_ok=True)
        return made

    examples = artifact(standard_artifacts.Examples, "examples")
    gen = image_folder_example_gen(str(data_dir), IngestionSettings(DEFAULT_GROUP_PATTERN, 0.5, "test-seed", 4096 * 4096))
    ImageFolderExecutor().Do({}, {standard_component_specs.EXAMPLES_KEY: [examples]},
                             {k: v for k, v in gen.exec_properties.items() if v is not None})
    examples.split_names = encode_split_names(["train", "eval"])
    schema = artifact(standard_artifacts.Schema, "schema")
    shutil.copy(os.path.join(DEFAULT_SCHEMA_DIR, "horse_or_human", "schema.pbtxt"), schema.uri)
    outputs = {
        standard_component_specs.TRANSFORM_GRAPH_KEY: [artifact(standard_artifacts.TransformGraph, "graph")],
        standard_component_specs.UPDATED_ANALYZER_CACHE_KEY: [artifact(standard_artifacts.TransformCache, "cache")],
    }
    schema_file = os.path.join(schema.uri, "schema.pbtxt")
    component = Transform(
        examples=gen.outputs["examples"], schema=tfx.components.ImportSchemaGen(schema_file=schema_file).outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN, disable_statistics=True, materialize=False,
        splits_config=transform_pb2.SplitsConfig(analyze=["train"]), custom_config={"image_size": image_size})
    TransformExecutor().Do(
        {standard_component_specs.EXAMPLES_KEY: [examples], standard_component_specs.SCHEMA_KEY: [schema]},
        outputs, {k: v for k, v in component.exec_properties.items() if v is not None})
    return TransformRun(examples.uri, outputs[standard_component_specs.TRANSFORM_GRAPH_KEY][0].uri, schema_file)


@pytest.fixture(scope="session")
def transformed_sample(real_image_folder_factory, tmp_path_factory):
    """Factory: transformed_sample(image_size=150) -> TransformRun of the real sample images (tests/conftest.py's
    REAL_SAMPLE: five horses, five humans), run once per image size in the session."""
    runs = {}

    def run(image_size: int = constants.IMAGE_HEIGHT) -> TransformRun:
        if image_size not in runs:
            runs[image_size] = run_transform(real_image_folder_factory(), tmp_path_factory.mktemp(f"transform-{image_size}"),
                                             image_size)
        return runs[image_size]

    return run


def write_files_model(path, content=b"graph"):
    os.makedirs(os.path.join(path, "variables"))
    with open(os.path.join(path, "saved_model.pb"), "wb") as handle:
        handle.write(content)
    with open(os.path.join(path, "variables", "variables.index"), "wb") as handle:
        handle.write(b"index")
    return str(path)


@pytest.fixture
def files_model():
    """files_model(path, content=b"graph"): a folder shaped like a SavedModel, for tests where no
    TensorFlow touches the model (locking, numbering, pruning)."""
    return write_files_model


@pytest.fixture
def saved_model(tmp_path):
    """Factory: a real tf.saved_model whose serving_default multiplies its input by `factor`, laid out
    as the Trainer writes one (MODEL_ARTIFACT/Format-Serving); returns the SavedModel's folder."""
    import tensorflow as tf

    def make(factor: float) -> str:
        path = str(tmp_path / "models" / f"times-{factor}" / "Format-Serving")
        if os.path.isdir(path):
            return path
        module = tf.Module()
        module.factor = tf.Variable(float(factor))

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def serve(x):
            return {"score": x * module.factor}

        tf.saved_model.save(module, path, signatures={"serving_default": serve})
        return path

    return make


@pytest.fixture
def push():
    """push(serving_dir, model_dir, accuracy=..., class_names=...) -> ServingFolder, as the Pusher publishes."""
    from components.serving.lock import serving_lock
    from components.serving.versions import model_fingerprint
    from components.serving.publisher import publish_staged, stage_model

    def publish(serving_dir, model_dir, accuracy=None, class_names=HORSES_HUMANS, **record):
        staging = stage_model(model_dir, str(serving_dir))
        record = dict(record, fingerprint=model_fingerprint(model_dir), class_names=list(class_names), pushed_by="pipeline")
        if accuracy is not None:
            record["eval_accuracy"] = accuracy
        with serving_lock(str(serving_dir), "test"):
            return publish_staged(staging, str(serving_dir), record)

    return publish
