"""Reading TFRecord files whose name says how they are compressed: TFX's components write GZIP files
ending in .gz, the project's Transform plain ones."""
import tensorflow as tf


def tfrecord_reader(path: str) -> tf.data.Dataset:
    return tf.data.TFRecordDataset(path, compression_type="GZIP" if path.endswith(".gz") else "")
