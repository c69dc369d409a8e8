"""components/model/dataset.py: the Trainer's input, read from TFRecords as Transform writes them."""
from collections import Counter

import numpy as np
import pytest
import tensorflow as tf

from components import constants
from components.model.dataset import label_counts, transformed_dataset

SHAPE = [2, 2, 3]
SPEC = {
    constants.TRANSFORMED_IMAGE_KEY: tf.io.FixedLenFeature(SHAPE, tf.float32),
    constants.TRANSFORMED_LABEL_KEY: tf.io.FixedLenFeature([], tf.int64),
}


def _write_examples(path, labels, compression):
    """tf.Examples like Transform's: each image filled with its own index, so order is visible."""
    options = tf.io.TFRecordOptions(compression_type=compression)
    with tf.io.TFRecordWriter(path, options) as writer:
        for index, label in labels:
            example = tf.train.Example(features=tf.train.Features(feature={
                constants.TRANSFORMED_IMAGE_KEY: tf.train.Feature(float_list=tf.train.FloatList(value=[float(index)] * 12)),
                constants.TRANSFORMED_LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
            }))
            writer.write(example.SerializeToString())


@pytest.fixture
def split(tmp_path):
    (tmp_path / "Split-train").mkdir()
    _write_examples(str(tmp_path / "Split-train" / "part-0.gz"), [(i, i % 3) for i in range(40)], "GZIP")
    _write_examples(str(tmp_path / "Split-train" / "part-1"), [(40 + i, 2) for i in range(5)], "")
    return [str(tmp_path / "Split-train" / "*")]


def _epoch(dataset):
    images, labels = zip(*[(image.numpy(), label.numpy()) for image, label in dataset])
    return np.concatenate(images), np.concatenate(labels)


def test_batches_hold_every_example_once_with_its_label_gzip_or_not(split):
    images, labels = _epoch(transformed_dataset(split, SPEC, 8, shuffle=False, seed=1))

    assert images.shape == (45, 2, 2, 3) and images.dtype == np.float32
    order = images[:, 0, 0, 0].astype(int)
    assert order.tolist() == list(range(45))
    assert labels.tolist() == [i % 3 for i in range(40)] + [2] * 5


def test_shuffling_is_seeded_and_draws_a_new_order_each_epoch(split):
    first = transformed_dataset(split, SPEC, 8, shuffle=True, seed=7)
    again = transformed_dataset(split, SPEC, 8, shuffle=True, seed=7)

    epoch_1, epoch_2 = _epoch(first)[0][:, 0, 0, 0], _epoch(first)[0][:, 0, 0, 0]
    assert sorted(epoch_1.astype(int).tolist()) == list(range(45))
    assert epoch_1.tolist() != list(range(45)) and epoch_1.tolist() != epoch_2.tolist()
    assert _epoch(again)[0][:, 0, 0, 0].tolist() == epoch_1.tolist()


def test_label_counts_read_every_file_of_every_pattern(split, tmp_path):
    _write_examples(str(tmp_path / "other.gz"), [(0, 1)], "GZIP")

    counts = label_counts(split + [str(tmp_path / "other.gz")], constants.TRANSFORMED_LABEL_KEY,
                          SPEC[constants.TRANSFORMED_LABEL_KEY])

    assert counts == Counter({0: 14, 1: 14, 2: 13 + 5})


def test_a_pattern_that_matches_nothing_is_named(tmp_path):
    with pytest.raises(ValueError, match="no TFRecord files match.*nothing-here"):
        transformed_dataset([str(tmp_path / "nothing-here" / "*")], SPEC, 8, shuffle=False, seed=1)
