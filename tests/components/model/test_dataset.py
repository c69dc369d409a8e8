"""components/model/dataset.py: the Trainer's input, the ingested tf.Examples through the Transform graph."""
import os
from collections import Counter

import numpy as np
import pytest
import tensorflow as tf

from components import constants
from components.model.dataset import TRANSFORM_BATCH, label_counts, model_input_dataset
from components.tfrecords import tfrecord_reader
from components.transform.preprocessing import images_from_bytes

SIDE = 2
RAW_SPEC = {
    constants.IMAGE_BYTES_KEY: tf.io.FixedLenFeature([], tf.string),
    constants.LABEL_KEY: tf.io.FixedLenFeature([], tf.int64),
}
COUNT = TRANSFORM_BATCH + 6  # more than one batch of encoded images per transform call


def decode_pixels(raw):
    """A transform like the Transform graph's, for tiny images: each PNG's pixels as floats, the label kept."""
    def one(encoded):
        return tf.ensure_shape(tf.cast(tf.io.decode_png(encoded, channels=3), tf.float32), [SIDE, SIDE, 3])

    images = tf.map_fn(one, tf.reshape(raw[constants.IMAGE_BYTES_KEY], [-1]),
                       fn_output_signature=tf.TensorSpec([SIDE, SIDE, 3], tf.float32))
    return {constants.TRANSFORMED_IMAGE_KEY: images, constants.TRANSFORMED_LABEL_KEY: raw[constants.LABEL_KEY]}


def _write_examples(path, labels, compression):
    """tf.Examples as ingestion writes them: each image a PNG filled with its own index, so order is visible."""
    options = tf.io.TFRecordOptions(compression_type=compression)
    with tf.io.TFRecordWriter(path, options) as writer:
        for index, label in labels:
            png = tf.io.encode_png(np.full([SIDE, SIDE, 3], index, np.uint8)).numpy()
            example = tf.train.Example(features=tf.train.Features(feature={
                constants.IMAGE_BYTES_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[png])),
                constants.LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
            }))
            writer.write(example.SerializeToString())


@pytest.fixture
def split(tmp_path):
    (tmp_path / "Split-train").mkdir()
    _write_examples(str(tmp_path / "Split-train" / "part-0.gz"), [(i, i % 3) for i in range(COUNT - 5)], "GZIP")
    _write_examples(str(tmp_path / "Split-train" / "part-1"), [(COUNT - 5 + i, 2) for i in range(5)], "")
    return [str(tmp_path / "Split-train" / "*")]


def _dataset(split, **options):
    return model_input_dataset(split, decode_pixels, RAW_SPEC, 8, **dict(dict(shuffle=False, seed=1), **options))


def _epoch(dataset):
    images, labels = zip(*[(image.numpy(), label.numpy()) for image, label in dataset])
    return np.concatenate(images), np.concatenate(labels)


def test_batches_hold_every_example_once_transformed_with_its_label_gzip_or_not(split):
    images, labels = _epoch(_dataset(split))

    assert images.shape == (COUNT, SIDE, SIDE, 3) and images.dtype == np.float32
    order = images[:, 0, 0, 0].astype(int)
    assert order.tolist() == list(range(COUNT))
    assert labels.tolist() == [i % 3 for i in range(COUNT - 5)] + [2] * 5


def test_shuffling_is_seeded_and_draws_a_new_order_each_epoch(split):
    first = _dataset(split, shuffle=True, seed=7)
    again = _dataset(split, shuffle=True, seed=7)

    epoch_1, epoch_2 = _epoch(first)[0][:, 0, 0, 0], _epoch(first)[0][:, 0, 0, 0]
    assert sorted(epoch_1.astype(int).tolist()) == list(range(COUNT))
    assert epoch_1.tolist() != list(range(COUNT)) and epoch_1.tolist() != epoch_2.tolist()
    assert _epoch(again)[0][:, 0, 0, 0].tolist() == epoch_1.tolist()


def test_after_one_whole_pass_the_transformed_images_come_from_the_cache_file(split, tmp_path):
    cache = str(tmp_path / "cache" / "images")
    os.makedirs(os.path.dirname(cache))
    dataset = _dataset(split, shuffle=True, seed=3, cache_file=cache)
    first = _epoch(dataset)
    for path in tf.io.gfile.glob(split[0]):
        os.remove(path)  # the examples are gone: a second pass can only read the cache

    second = _epoch(dataset)
    assert sorted(second[0][:, 0, 0, 0].astype(int).tolist()) == list(range(COUNT))
    assert sorted(zip(second[0][:, 0, 0, 0].tolist(), second[1].tolist())) == \
        sorted(zip(first[0][:, 0, 0, 0].tolist(), first[1].tolist()))



def test_a_second_dataset_of_the_same_split_and_cache_file_reads_what_the_first_cached(split, tmp_path):
    cache = str(tmp_path / "images-train")
    in_order = _dataset(split, cache_file=cache)  # the frozen stage's fixed order
    shuffled = _dataset(split, shuffle=True, seed=3, cache_file=cache)  # fine-tuning's, made before it is read
    first = _epoch(in_order)
    for path in tf.io.gfile.glob(split[0]):
        os.remove(path)  # the examples are gone: the second dataset can only read the first one's cache

    images, labels = _epoch(shuffled)
    assert sorted(zip(images[:, 0, 0, 0].tolist(), labels.tolist())) == \
        sorted(zip(first[0][:, 0, 0, 0].tolist(), first[1].tolist()))
    assert images[:, 0, 0, 0].tolist() != first[0][:, 0, 0, 0].tolist()  # and still shuffles

def test_the_real_transform_graph_gives_model_ready_images_as_the_preprocessing_fn_makes_them(transformed_sample):
    import tensorflow_transform as tft

    run = transformed_sample()
    output = tft.TFTransformOutput(run.graph)
    files = [os.path.join(run.ingested, "Split-eval", "*")]
    images, labels = _epoch(model_input_dataset(files, output.transform_features_layer(), output.raw_feature_spec(), 4,
                                                shuffle=False, seed=1))

    assert images.shape[1:] == (constants.IMAGE_HEIGHT, constants.IMAGE_WIDTH, constants.IMAGE_CHANNELS)
    assert len(images) >= 2 and set(labels.tolist()) <= {0, 1}
    assert -1.0 - 1e-5 <= images.min() and images.max() <= 1.0 + 1e-5
    assert all(image.std() > 0.05 for image in images)  # pictures, not blank canvases
    encoded = [tf.train.Example.FromString(record.numpy()).features.feature[constants.IMAGE_BYTES_KEY].bytes_list.value[0]
               for path in sorted(tf.io.gfile.glob(files[0])) for record in tfrecord_reader(path)]
    np.testing.assert_allclose(images, images_from_bytes(tf.constant(encoded)).numpy(), atol=1e-6)


def test_label_counts_read_every_file_of_every_pattern(split, tmp_path):
    _write_examples(str(tmp_path / "other.gz"), [(0, 1)], "GZIP")

    counts = label_counts(split + [str(tmp_path / "other.gz")], constants.LABEL_KEY, RAW_SPEC[constants.LABEL_KEY])

    assert counts == Counter({0: 22, 1: 22 + 1, 2: 21 + 5})


def test_a_pattern_that_matches_nothing_is_named(tmp_path):
    with pytest.raises(ValueError, match="no TFRecord files match.*nothing-here"):
        _dataset([str(tmp_path / "nothing-here" / "*")])
