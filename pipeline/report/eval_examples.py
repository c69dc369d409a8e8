"""The tf.Examples of an ExampleGen artifact, read back for the report: image sizes and the eval images."""
from __future__ import annotations

import glob
import io
import os
from collections import Counter
from typing import Dict, Iterator

from PIL import Image

from components import constants


def serialized_examples(examples_uri: str, split: str) -> Iterator[bytes]:
    """Serialized tf.Examples of one split (ExampleGen writes GZIP TFRecords under Split-<name>/)."""
    from components.tfrecords import tfrecord_reader

    files = sorted(glob.glob(os.path.join(examples_uri, f"Split-{split}", "*")))
    for path in files:
        for record in tfrecord_reader(path):
            yield record.numpy()


def features_of(serialized: bytes) -> dict:
    """image bytes, label, class name and file path of one serialized tf.Example."""
    import tensorflow as tf

    feature = tf.train.Example.FromString(serialized).features.feature
    text = {key: feature[key].bytes_list.value[0] for key in (constants.CLASS_NAME_KEY, constants.FILE_PATH_KEY) if key in feature}
    return {
        "image": feature[constants.IMAGE_BYTES_KEY].bytes_list.value[0],
        "label": int(feature[constants.LABEL_KEY].int64_list.value[0]),
        "class_name": text.get(constants.CLASS_NAME_KEY, b"").decode("utf-8"),
        "file": text.get(constants.FILE_PATH_KEY, b"").decode("utf-8"),
    }


def image_size(encoded: bytes) -> str:
    """'WxH' from the image header alone (PIL reads no pixels until asked)."""
    try:
        width, height = Image.open(io.BytesIO(encoded)).size
    except Exception:  # an undecodable image never got past ingestion; count it, don't fail the report
        return "unreadable"
    return f"{width}x{height}"


def image_size_counts(examples_uri: str, splits=(constants.TRAIN_SPLIT, constants.EVAL_SPLIT)) -> Dict[str, Dict[str, int]]:
    """{split: {"WxH": number of images}}, most common size first."""
    counts = {}
    for split in splits:
        sizes = Counter(image_size(features_of(s)["image"]) for s in serialized_examples(examples_uri, split))
        if sizes:
            counts[split] = dict(sizes.most_common())
    return counts
