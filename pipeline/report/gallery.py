"""The eval images the candidate got wrong: thumbnails with true class, predicted class and probabilities.

The mistakes are the Evaluator's own (its eval_mistakes metric, recorded while
it ran the candidate's serving signature on the eval split for the gate), so
the report shows exactly what the gate judged and never runs the model again;
only the images are read back, from the eval split.
"""
from __future__ import annotations

import base64
import io
from typing import List, Optional

from PIL import Image

from components import constants
from components.promotion.eval_mistakes import DEFAULT_KEPT
from components.promotion.evaluation_report import read_mistakes
from pipeline.report.eval_examples import features_of, serialized_examples

MAX_IMAGES = DEFAULT_KEPT  # thumbnails shown: as many as the Evaluator keeps
THUMBNAIL_PX = 96


def thumbnail(encoded: bytes, size: int = THUMBNAIL_PX) -> str:
    """A data: URI of a small JPEG of the image (RGB, longest side `size`)."""
    image = Image.open(io.BytesIO(encoded))
    image.seek(0)
    image = image.convert("RGB")
    image.thumbnail((size, size))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _preview(encoded: bytes) -> Optional[str]:
    """The thumbnail, or None for an image TensorFlow decodes and PIL cannot (ingestion only needs the former)."""
    try:
        return thumbnail(encoded)
    except (OSError, SyntaxError, ValueError):
        return None


def misclassified(evaluation_uri: str, examples_uri: str, class_names: List[str], limit: int = MAX_IMAGES) -> Optional[dict]:
    """{"evaluated": n, "wrong": n, "images": [{thumbnail, file, true, predicted, probabilities}]}: the `limit`
    most confident mistakes; None when the evaluation recorded none (made by an older version of the pipeline)."""
    recorded = read_mistakes(evaluation_uri)
    if recorded is None:
        return None
    mistakes = {m["file"]: m for m in recorded["mistakes"][:limit]}
    encoded = {}
    for serialized in serialized_examples(examples_uri, constants.EVAL_SPLIT):
        example = features_of(serialized)
        if example["file"] in mistakes:
            encoded[example["file"]] = example["image"]
            if len(encoded) == len(mistakes):
                break
    images = []
    for file_path, mistake in mistakes.items():
        if file_path not in encoded:
            continue  # not in this eval split: the evaluation belongs to other examples
        probabilities = mistake["probabilities"]
        predicted = max(range(len(probabilities)), key=probabilities.__getitem__)
        images.append({
            "thumbnail": _preview(encoded[file_path]),
            "file": file_path,
            "true": class_names[mistake["label"]],
            "predicted": class_names[predicted],
            "probabilities": dict(zip(class_names, probabilities)),
        })
    return {"evaluated": recorded["evaluated"], "wrong": recorded["wrong"], "images": images}
