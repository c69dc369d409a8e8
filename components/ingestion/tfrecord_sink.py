"""The examples' gzipped TFRecords, written at a compression level that suits the images in them.

TFX's ExampleGen writes each split through Beam's gzip writer, whose zlib level is fixed at 6
(apache_beam/io/filesystem.py: CompressedFile). An example is almost all image bytes, and PNG, JPEG
and GIF bytes are already compressed: on horse-or-human's 915 PNGs (131.6 MB) level 6 took 2.9 s and
wrote 131.64 MB, where stored blocks (level 0) took 0.24 s and wrote 131.61 MB (measured 2026-12-04).
A gzip stream of stored blocks is still gzip, so TFX, TFXIO, Beam and tf.data read the files as
before. BMP bytes do compress, so a data set with any BMP keeps level 6.
"""
from __future__ import annotations

import gzip
import os
import zlib
from typing import Iterable

import apache_beam as beam
from apache_beam.io import filesystem, filesystems, tfrecordio
from tfx.components.example_gen import write_split

STORED = 0
# Formats whose bytes are already compressed (components/constants.py IMAGE_EXTENSIONS holds them and BMP).
_COMPRESSED_FORMATS = (".jpg", ".jpeg", ".png", ".gif")


def compression_level(file_names: Iterable[str]) -> int:
    """Stored blocks when every image is in an already-compressed format, else zlib's default."""
    names = list(file_names)
    if names and all(os.path.splitext(name)[1].lower() in _COMPRESSED_FORMATS for name in names):
        return STORED
    return zlib.Z_DEFAULT_COMPRESSION


class _GzipTFRecordSink(tfrecordio._TFRecordSink):  # noqa: SLF001 (Beam's TFRecord sink, its file opening changed)
    """Beam's TFRecord sink with the gzip level chosen: the file is created uncompressed and wrapped in
    a GzipFile of that level (no name and mtime 0 in the header, so the same examples give the same bytes)."""

    def __init__(self, file_path_prefix: str, file_name_suffix: str, level: int):
        super().__init__(file_path_prefix, beam.coders.BytesCoder(), file_name_suffix, num_shards=0,
                         shard_name_template=None, compression_type=filesystem.CompressionTypes.UNCOMPRESSED)
        self._level = level

    def open(self, temp_path):
        raw = filesystems.FileSystems.create(temp_path, self.mime_type, filesystem.CompressionTypes.UNCOMPRESSED)
        return _GzipHandle(raw, self._level)

    def close(self, file_handle):
        file_handle.close()


class _GzipHandle:
    """A GzipFile over Beam's file handle that closes both (GzipFile leaves a given file object open)."""

    def __init__(self, raw, level: int):
        self._raw = raw
        # filename "": GzipFile would otherwise record the handle's name, Beam's random temporary file name.
        self._gzip = gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=level, mtime=0)

    def write(self, data: bytes) -> None:
        self._gzip.write(data)

    def close(self) -> None:
        self._gzip.close()
        self._raw.close()


class SplitFileWriter:
    """A split's examples written without Beam, as WriteSplit writes them in-process: one file,
    `data_tfrecord-00000-of-00001.gz` in the split's folder, each record framed by Beam's TFRecord sink,
    the gzip stream the same as _GzipHandle's. The file appears under its name only when closed."""

    def __init__(self, output_split_path: str, level: int):
        self._path = os.path.join(output_split_path, f"{write_split.DEFAULT_FILE_NAME}-00000-of-00001.gz")
        self._partial = self._path + ".partial"
        if not filesystems.FileSystems.exists(output_split_path):
            filesystems.FileSystems.mkdirs(output_split_path)
        raw = filesystems.FileSystems.create(self._partial, "application/octet-stream",
                                             filesystem.CompressionTypes.UNCOMPRESSED)
        self._handle = _GzipHandle(raw, level)

    def write(self, serialized_example: bytes) -> None:
        tfrecordio._TFRecordUtil.write_record(self._handle, serialized_example)  # noqa: SLF001 (the sink's framing)

    def close(self) -> None:
        self._handle.close()
        filesystems.FileSystems.rename([self._partial], [self._path])

    def discard(self) -> None:
        self._handle.close()
        filesystems.FileSystems.delete([self._partial])


class WriteSplit(beam.PTransform):
    """TFX's WriteSplit for TFRecords (tfx/components/example_gen/write_split.py: MaybeSerialize, Reshuffle,
    then `data_tfrecord-SSSSS-of-NNNNN.gz` in the split's folder), at the given gzip level."""

    def __init__(self, output_split_path: str, level: int):
        super().__init__()
        self._prefix = os.path.join(output_split_path, write_split.DEFAULT_FILE_NAME)
        self._level = level

    def expand(self, examples):
        return (examples
                | "MaybeSerialize" >> beam.ParDo(write_split.MaybeSerialize())
                | "Shuffle" >> beam.transforms.Reshuffle()
                | "Write" >> beam.io.Write(_GzipTFRecordSink(self._prefix, ".gz", self._level)))
