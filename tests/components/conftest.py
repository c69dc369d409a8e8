"""Serving-dir fixtures for the gate's tests (promotion/) and the serving dir's (serving/): tiny real
SavedModels, and versions pushed the way the Pusher pushes them."""
import os

import pytest

HORSES_HUMANS = ["horses", "humans"]


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
