"""components/trainer/trainer_module.py: run_fn, called as TFX's Trainer calls it, on real ingested examples
and a real Transform graph.

The real sample images (five horses, five humans) go through the real ingestion and Transform
executors at the smallest image size the settings allow; run_fn applies the graph to the ingested
examples, trains one epoch on a random base
(weights `none`: nothing to download) and exports. What is checked is what the Evaluator, TF Serving
and the report read: the SavedModel's signatures and the training history.
"""
import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from tfx.components.trainer.fn_args_utils import FnArgs

from components import constants
from components.model.signatures import CLASS_NAME, CLASS_NAMES, PROBABILITIES, SERVING_DEFAULT, SERVING_IMAGES
from components.model.training import HISTORY_FILE
from components.tfrecords import tfrecord_reader
from components.trainer.trainer_module import return_freed_memory, run_fn

CLASSES = ["horses", "humans"]
SMALLEST = {"weights": "none", "cut_layer": "mixed0", "image_size": constants.MIN_IMAGE_SIZE, "epochs": 1, "batch_size": 4,
            "head_units": 8}


def fn_args(transform, root, **settings):
    """What TFX's Trainer hands run_fn: the ingested splits, the transform graph, the schema, two folders."""
    return FnArgs(
        train_files=[os.path.join(transform.ingested, "Split-train", "*")],
        eval_files=[os.path.join(transform.ingested, "Split-eval", "*")],
        transform_output=transform.graph, transform_graph_path=transform.graph, schema_path=transform.schema,
        serving_model_dir=str(root / "model" / "Format-Serving"), model_run_dir=str(root / "model_run"),
        custom_config=dict(SMALLEST, **settings),
    )


@pytest.fixture(scope="module")
def trained(transformed_sample, tmp_path_factory):
    """The FnArgs run_fn was called with, once it has returned."""
    transform = transformed_sample(constants.MIN_IMAGE_SIZE)
    args = fn_args(transform, tmp_path_factory.mktemp("trainer"))
    run_fn(args)
    return args


def ingested_examples(transform, split):
    """The tf.Examples ImageFolderExampleGen wrote for a split, serialized: what serving_default is fed."""
    files = sorted(tf.io.gfile.glob(os.path.join(transform.ingested, f"Split-{split}", "*")))
    return [record.numpy() for path in files for record in tfrecord_reader(path)]


def test_the_exported_model_answers_both_signatures_with_the_schemas_class_names(trained, transformed_sample):
    model = tf.saved_model.load(trained.serving_model_dir)
    assert {SERVING_DEFAULT, SERVING_IMAGES} <= set(model.signatures)
    serialized = ingested_examples(transformed_sample(constants.MIN_IMAGE_SIZE), "eval")
    image_bytes = [tf.train.Example.FromString(s).features.feature[constants.IMAGE_BYTES_KEY].bytes_list.value[0]
                   for s in serialized]

    by_example = model.signatures[SERVING_DEFAULT](examples=tf.constant(serialized))
    by_image = model.signatures[SERVING_IMAGES](image_bytes=tf.constant(image_bytes))

    for answer in (by_example, by_image):
        assert answer[PROBABILITIES].shape == (len(serialized), len(CLASSES))
        np.testing.assert_allclose(answer[PROBABILITIES].numpy().sum(axis=1), 1.0, rtol=1e-5)
        assert [[name.decode() for name in row] for row in answer[CLASS_NAMES].numpy()] == [CLASSES] * len(serialized)
        assert {name.decode() for name in answer[CLASS_NAME].numpy()} <= set(CLASSES)
    # The same pictures, decoded by the same Transform graph: the same answer either way.
    np.testing.assert_allclose(by_example[PROBABILITIES].numpy(), by_image[PROBABILITIES].numpy(), rtol=1e-5)


def test_the_training_history_holds_each_epoch_the_classes_and_the_settings(trained):
    history = json.load(open(os.path.join(trained.model_run_dir, HISTORY_FILE)))

    assert history["class_names"] == CLASSES
    assert sum(history["train_counts"].values()) >= 2 and set(history["train_counts"]) == set(CLASSES)
    assert history["settings"]["image_size"] == constants.MIN_IMAGE_SIZE and history["settings"]["epochs"] == 1
    [stage] = history["stages"]
    assert stage["name"] == "head" and stage["best_epoch"] == 1
    [epoch] = stage["epochs"]
    assert epoch["epoch"] == 1 and {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(epoch)
    assert os.listdir(os.path.join(trained.model_run_dir, "head"))  # TensorBoard's logs of the stage



def test_without_augmentation_fine_tuning_reads_the_images_the_frozen_stage_decoded(transformed_sample, tmp_path,
                                                                                   monkeypatch):
    from components.trainer import trainer_module

    transform = transformed_sample(constants.MIN_IMAGE_SIZE)
    ingested = tmp_path / "ingested"
    shutil.copytree(transform.ingested, ingested)
    args = fn_args(transform._replace(ingested=str(ingested)), tmp_path, augment=False, fine_tune_blocks=1,
                   fine_tune_epochs=1)
    unfreeze = trainer_module.unfreeze_top_blocks

    def train_files_gone_then_unfreeze(*unfreeze_args):
        shutil.rmtree(ingested / "Split-train")  # fine-tuning can only read what the frozen stage decoded
        return unfreeze(*unfreeze_args)

    monkeypatch.setattr(trainer_module, "unfreeze_top_blocks", train_files_gone_then_unfreeze)
    run_fn(args)

    history = json.load(open(os.path.join(args.model_run_dir, HISTORY_FILE)))
    assert [stage["name"] for stage in history["stages"]] == ["head", "fine_tune"]
    assert not (ingested / "Split-train").exists() and tf.saved_model.contains_saved_model(args.serving_model_dir)

def test_a_trainer_image_size_other_than_the_transforms_is_refused_naming_both(transformed_sample, tmp_path):
    args = fn_args(transformed_sample(constants.MIN_IMAGE_SIZE), tmp_path, image_size=constants.IMAGE_HEIGHT)

    with pytest.raises(ValueError, match=f"the Transform graph makes {constants.MIN_IMAGE_SIZE}x{constants.MIN_IMAGE_SIZE} "
                                         f"images, but the Trainer's image_size is {constants.IMAGE_HEIGHT}"):
        run_fn(args)
    assert not os.path.exists(args.serving_model_dir)


def test_the_heap_the_training_freed_goes_back_to_the_system():
    import ctypes

    import psutil

    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
    process = psutil.Process()
    blocks = [libc.malloc(1024) for _ in range(200_000)]  # about 200 MB in small blocks, as a model's buffers
    for block in blocks:
        ctypes.memset(block, 1, 1024)
    above = libc.malloc(1024)  # held above them: freeing them alone cannot shrink the heap from its top
    for block in blocks:
        libc.free(block)
    kept = process.memory_info().rss

    assert return_freed_memory() is True
    assert process.memory_info().rss < kept - 150 * 2**20
    libc.free(above)
