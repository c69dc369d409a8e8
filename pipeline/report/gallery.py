"""The eval images the candidate got wrong: thumbnails with true class, predicted class and probabilities.

The candidate SavedModel's serving_default signature (serialized tf.Examples,
the same entry point TFMA evaluated) is run on the eval split.
"""
from __future__ import annotations

import base64
import io
from typing import List

from PIL import Image

from components import constants
from pipeline.report.eval_examples import features_of, serialized_examples

MAX_IMAGES = 24  # thumbnails shown
THUMBNAIL_PX = 96
BATCH = 32


def thumbnail(encoded: bytes, size: int = THUMBNAIL_PX) -> str:
    """A data: URI of a small JPEG of the image (RGB, longest side `size`)."""
    image = Image.open(io.BytesIO(encoded))
    image.seek(0)
    image = image.convert("RGB")
    image.thumbnail((size, size))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _class_probabilities(outputs: dict, row: int, class_names: List[str]) -> dict:
    """{class: probability}: the probabilities vector where the model has one, else the binary P(class 1)."""
    if "probabilities" in outputs:
        return {name: round(float(p), 4) for name, p in zip(class_names, outputs["probabilities"][row])}
    positive = float(outputs["probability"][row].reshape(-1)[0])
    return {class_names[0]: round(1 - positive, 4), class_names[1]: round(positive, 4)}


def misclassified(model_dir: str, examples_uri: str, class_names: List[str], limit: int = MAX_IMAGES) -> dict:
    """{"evaluated": n, "wrong": n, "counts": confusion counts [true][predicted],
    "images": [{thumbnail, file, true, predicted, probabilities}] (the first `limit` wrong ones)}."""
    import tensorflow as tf

    predict = tf.saved_model.load(model_dir).signatures["serving_default"]
    input_name = next(iter(predict.structured_input_signature[1]))  # "examples"
    evaluated, wrong, images = 0, 0, []
    counts = [[0] * len(class_names) for _ in class_names]
    batch: List[bytes] = []

    def flush():
        nonlocal evaluated, wrong
        outputs = {k: v.numpy() for k, v in predict(**{input_name: tf.constant(batch)}).items()}
        for row, serialized in enumerate(batch):
            example = features_of(serialized)
            predicted = int(outputs["class_id"][row].reshape(-1)[0])
            evaluated += 1
            counts[example["label"]][predicted] += 1
            if predicted == example["label"]:
                continue
            wrong += 1
            if len(images) < limit:
                images.append({
                    "thumbnail": thumbnail(example["image"]),
                    "file": example["file"],
                    "true": class_names[example["label"]],
                    "predicted": class_names[predicted],
                    "probabilities": _class_probabilities(outputs, row, class_names),
                })
        batch.clear()

    for serialized in serialized_examples(examples_uri, constants.EVAL_SPLIT):
        batch.append(serialized)
        if len(batch) == BATCH:
            flush()
    if batch:
        flush()
    return {"evaluated": evaluated, "wrong": wrong, "counts": counts, "images": images}

