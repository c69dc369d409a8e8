"""components/transform/executor.py: TFX's Transform executor, run for real, writing plain TFRecords."""
import numpy as np
import pytest
import tensorflow as tf
from tfx.components.transform import executor as tfx_transform_executor

from components import constants
from components.transform.executor import OUTPUT_SUFFIX


@pytest.fixture(scope="module")
def transformed(transformed_sample):
    """The transformed examples of the real sample at the default image size (tests/components/conftest.py)."""
    return transformed_sample().examples


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
