"""Classifies image files with an exported model through its raw-bytes signature.

The same path a TF Serving REST client takes (serving_images), so what
`transfer-pipeline predict` prints is what the served model answers.
"""
from __future__ import annotations

import os
from typing import Iterable, Iterator

import tensorflow as tf

from components.model.signatures import CLASS_NAME, CLASS_NAMES, PROBABILITIES, PROBABILITY, SERVING_IMAGES
from components.serving.versions import latest_version


class ModelDirError(ValueError):
    pass


def resolve_model_dir(model_dir: str) -> str:
    """A SavedModel dir, or a serving dir of versions (the newest is taken)."""
    if tf.io.gfile.exists(os.path.join(model_dir, "saved_model.pb")):
        return model_dir
    version = latest_version(model_dir)
    if version is None:
        raise ModelDirError(
            f"{model_dir} holds no SavedModel (saved_model.pb) and no pushed version; pass a model version "
            "directory or the pipeline's serving directory"
        )
    return os.path.join(model_dir, str(version))


def predict_files(model_dir: str, files: Iterable[str]) -> Iterator[dict]:
    """One result per file: {file, class, probability of that class, probabilities of every class} or {file, error}."""
    path = resolve_model_dir(model_dir)
    model = tf.saved_model.load(path)
    if SERVING_IMAGES not in model.signatures:
        raise ModelDirError(f"{path} has no {SERVING_IMAGES} signature; it was not exported by this pipeline")
    classify = model.signatures[SERVING_IMAGES]
    for name in files:
        try:
            with open(name, "rb") as handle:
                outputs = classify(image_bytes=tf.constant([handle.read()]))
        except OSError as err:
            yield {"file": name, "error": f"cannot read: {err.strerror}"}
            continue
        except tf.errors.InvalidArgumentError:
            yield {"file": name, "error": "cannot decode: not a JPEG, PNG, GIF or BMP image, or the file is corrupt"}
            continue
        names = [label.decode("utf-8") for label in outputs[CLASS_NAMES].numpy()[0]]
        yield {
            "file": name,
            "class": outputs[CLASS_NAME].numpy()[0].decode("utf-8"),
            "probability": round(float(outputs[PROBABILITY].numpy()[0]), 6),
            "probabilities": {
                class_name: round(float(p), 6) for class_name, p in zip(names, outputs[PROBABILITIES].numpy()[0])
            },
        }
