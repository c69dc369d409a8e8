"""Reading TFRecord files whose name says how they are compressed: GZIP when it ends in .gz (as TFX's
components write them), plain otherwise."""
import tensorflow as tf


def tfrecord_reader(path: str) -> tf.data.Dataset:
    return tf.data.TFRecordDataset(path, compression_type="GZIP" if path.endswith(".gz") else "")
