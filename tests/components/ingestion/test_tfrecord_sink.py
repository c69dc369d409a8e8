"""components/ingestion/tfrecord_sink.py: the examples' gzip files at the level their images suit.

Real Beam writes, read back by TensorFlow's own GZIP reader: stored blocks for already-compressed
images (the file is the records plus gzip's few bytes a block), zlib's default when any image is BMP.
"""
import glob
import os
import pathlib
import zlib

import apache_beam as beam
import pytest
import tensorflow as tf

from components.ingestion.tfrecord_sink import STORED, WriteSplit, compression_level


def _write(folder, records, level):
    with beam.Pipeline() as pipeline:
        _ = pipeline | beam.Create(records) | WriteSplit(str(folder), level)
    return sorted(glob.glob(os.path.join(folder, "data_tfrecord-*-of-*.gz")))


def _read(files):
    return [record.numpy() for record in tf.data.TFRecordDataset(files, compression_type="GZIP")]


def test_compressed_images_are_stored_and_read_back_as_gzip(tmp_path):
    records = [os.urandom(5000) for _ in range(20)]  # as incompressible as PNG bytes
    files = _write(tmp_path / "stored", records, STORED)

    assert files and sorted(_read(files)) == sorted(records)
    payload = sum(len(record) + 16 for record in records)  # TFRecord framing: 16 bytes a record
    assert payload < sum(os.path.getsize(path) for path in files) < payload * 1.01


def test_compressible_bytes_are_compressed_at_zlibs_default(tmp_path):
    records = [bytes(5000) for _ in range(20)]  # as compressible as a BMP's runs of equal pixels
    files = _write(tmp_path / "deflated", records, zlib.Z_DEFAULT_COMPRESSION)

    assert sorted(_read(files)) == sorted(records)
    assert sum(os.path.getsize(path) for path in files) < 5000


def test_the_same_examples_give_the_same_bytes(tmp_path):
    # One record, so Reshuffle cannot reorder; the gzip header must carry neither a time nor Beam's temporary name.
    first, second = (_write(tmp_path / name, [b"example"], STORED) for name in ("first", "second"))

    assert pathlib.Path(first[0]).read_bytes() == pathlib.Path(second[0]).read_bytes()


@pytest.mark.parametrize("names, level", [
    (["a/1.png", "b/2.JPG", "c/3.jpeg", "d/4.gif"], STORED),
    (["a/1.png", "b/2.bmp"], zlib.Z_DEFAULT_COMPRESSION),
    ([], zlib.Z_DEFAULT_COMPRESSION),
])
def test_the_level_follows_the_formats(names, level):
    assert compression_level(names) == level
