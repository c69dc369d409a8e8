"""Warm start: the new model's head starts from the serving model's head, when the two fit.

The serving model comes as the Trainer's base_model (components/trainer/warm_start_source.py copies the
version serving now, with its push record, and says why when there is none). Its head is read straight
from the SavedModel's checkpoint (no model is loaded: the pipeline saves without Keras traces), its image
size from its Keras metadata; decide() compares those facts with the model about to be trained. A
backfill (the run's newest span older than the newest the serving model was trained on) always starts
from scratch: a model of older data must not inherit what newer data taught.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import List, Optional, Sequence, Tuple

import numpy as np

from components.ingestion.folder_scan import span_order, span_scheme

# What warm_start_source.py writes beside the copied model (the Model artifact's folder).
SOURCE_FILE = "warm_start_source.json"
PUSH_RECORD = "push_record.json"  # components/serving/versions.py writes it into every pushed version
_CHECKPOINT = os.path.join("variables", "variables")
_KERAS_METADATA = "keras_metadata.pb"

Shape = Tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class WarmStartDecision:
    """Where the head started: from_version (a serving version) or None, and then why not."""

    from_version: Optional[int]
    why_not: Optional[str] = None
    head_checksum: Optional[str] = None
    """sha256 (16 hex digits) of the head's weights just after loading; None when trained from scratch."""

    def to_dict(self) -> dict:
        values = {"from_version": self.from_version}
        if self.why_not:
            values["why_not"] = self.why_not
        if self.head_checksum:
            values["head_checksum"] = self.head_checksum
        return values

    @property
    def line(self) -> str:
        if self.from_version is None:
            return f"Trainer: warm start: none, from scratch: {self.why_not}"
        return f"Trainer: warm start: the head starts from serving version {self.from_version} (head sha256 {self.head_checksum})"


@dataclasses.dataclass(frozen=True)
class ServingModelFacts:
    """What decide() needs to know of the serving model."""

    version: int
    class_names: Optional[List[str]]
    spans: Optional[List[str]]
    """The spans it was trained on, oldest first (its push record); None: a plain data dir."""
    image_size: Optional[Tuple[int, int]]
    head_shapes: List[Shape]
    """The shapes of the head's weights in layer order (kernel, bias of each Dense layer)."""


def is_backfill(run_spans: Optional[Sequence[str]], serving_spans: Optional[Sequence[str]]) -> bool:
    """The run's newest span is older than the newest the serving model saw (spans of one naming scheme)."""
    if not run_spans or not serving_spans:
        return False
    run_newest, serving_newest = max(run_spans, key=span_order), max(serving_spans, key=span_order)
    if span_scheme(run_newest) != span_scheme(serving_newest):
        return False  # span-<N> against a date: other data, no order between them
    return span_order(run_newest) < span_order(serving_newest)


def _shapes(shapes: Sequence[Shape]) -> str:
    return ", ".join("x".join(str(n) for n in shape) for shape in shapes)


def decide(serving: Optional[ServingModelFacts], unavailable: str, class_names: Sequence[str],
           image_size: Tuple[int, int], head_shapes: Sequence[Shape], run_spans: Optional[Sequence[str]]) -> WarmStartDecision:
    """Warm start from `serving`, or why not. unavailable: why there is no serving model to start from."""
    if serving is None:
        return WarmStartDecision(None, unavailable or "no serving model")
    version = serving.version
    if is_backfill(run_spans, serving.spans):
        return WarmStartDecision(None, (
            f"a backfill: this run's newest span {max(run_spans, key=span_order)} is older than "
            f"{max(serving.spans, key=span_order)}, the newest serving version {version} was trained on"))
    if not serving.class_names:
        return WarmStartDecision(None, f"serving version {version} records no class names")
    if list(serving.class_names) != list(class_names):
        return WarmStartDecision(None, (
            f"serving version {version} predicts [{', '.join(serving.class_names)}], this run's schema "
            f"[{', '.join(class_names)}] (in label order)"))
    if serving.image_size is not None and tuple(serving.image_size) != tuple(image_size):
        return WarmStartDecision(None, (
            f"serving version {version} takes {serving.image_size[0]}x{serving.image_size[1]} images, this run "
            f"{image_size[0]}x{image_size[1]}"))
    if [tuple(s) for s in serving.head_shapes] != [tuple(s) for s in head_shapes]:
        return WarmStartDecision(None, (
            f"serving version {version}'s head has weights {_shapes(serving.head_shapes) or 'none found'}, this "
            f"run's {_shapes(head_shapes)} (other head_units, cut_layer or image size)"))
    return WarmStartDecision(version)


def head_layers(model) -> list:
    """The layers with weights above the frozen base, in order: the head's Dense layers."""
    with_weights = [layer for layer in model.layers if layer.weights]
    return with_weights[1:]  # the first is the InceptionV3 base (components/model/build.py)


def head_weights(model) -> List[np.ndarray]:
    return [weight for layer in head_layers(model) for weight in layer.get_weights()]


def checksum(arrays: Sequence[np.ndarray]) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
    return digest.hexdigest()[:16]


def _checkpoint_keys(model) -> List[str]:
    """The serving checkpoint's key of each head weight: Keras numbers a model's layers that have weights,
    base first, and names each weight by its attribute (kernel, bias)."""
    keys = []
    for index, layer in enumerate(head_layers(model), start=1):
        for weight in layer.weights:
            attribute = weight.name.split("/")[-1].split(":")[0]
            keys.append(f"layer_with_weights-{index}/{attribute}/.ATTRIBUTES/VARIABLE_VALUE")
    return keys


def serving_head(saved_model_dir: str, model) -> List[np.ndarray]:
    """The serving SavedModel's head weights, in the order of `model`'s head (KeyError: one is missing)."""
    import tensorflow as tf

    reader = tf.train.load_checkpoint(os.path.join(saved_model_dir, _CHECKPOINT))
    return [reader.get_tensor(key) for key in _checkpoint_keys(model)]


def _image_size(saved_model_dir: str) -> Optional[Tuple[int, int]]:
    """(height, width) the model's input layer takes, from its Keras metadata; None when it has none."""
    from tf_keras.protobuf import saved_metadata_pb2

    path = os.path.join(saved_model_dir, _KERAS_METADATA)
    if not os.path.exists(path):
        return None
    metadata = saved_metadata_pb2.SavedMetadata()
    with open(path, "rb") as handle:
        metadata.ParseFromString(handle.read())
    root = next((node for node in metadata.nodes if node.node_path == "root"), None)
    layers = json.loads(root.metadata).get("config", {}).get("layers", []) if root else []
    shape = layers[0].get("config", {}).get("batch_input_shape", {}) if layers else {}
    items = shape.get("items") if isinstance(shape, dict) else shape
    return (int(items[1]), int(items[2])) if items and len(items) == 4 else None


def read_serving_model(saved_model_dir: str, model) -> Tuple[Optional[ServingModelFacts], str, Optional[List[str]]]:
    """(the serving model's facts or None, why there is none, the run's spans) from the base model's folder."""
    import tensorflow as tf

    source_file = os.path.join(os.path.dirname(saved_model_dir.rstrip("/")), SOURCE_FILE)
    if not os.path.exists(source_file):
        return None, f"{source_file} is missing: the base model did not come from WarmStartSource", None
    with open(source_file) as handle:
        source = json.load(handle)
    run_spans = source.get("run_spans")
    if source.get("version") is None or not os.path.isdir(saved_model_dir):
        return None, source.get("why_not") or f"{saved_model_dir}: no serving model there", run_spans
    with open(os.path.join(saved_model_dir, PUSH_RECORD)) as handle:
        record = json.load(handle)
    reader = tf.train.load_checkpoint(os.path.join(saved_model_dir, _CHECKPOINT))
    shapes = reader.get_variable_to_shape_map()
    head_shapes = [tuple(shapes[key]) for key in _checkpoint_keys(model) if key in shapes]
    return ServingModelFacts(
        version=int(source["version"]), class_names=record.get("class_names"),
        spans=record.get("spans"), image_size=_image_size(saved_model_dir), head_shapes=head_shapes,
    ), "", run_spans


def warm_start(model, base_model_dir: Optional[str], class_names: Sequence[str]) -> WarmStartDecision:
    """Loads the serving model's head into `model` (built, not yet trained) when decide() says so."""
    if not base_model_dir:
        decision = WarmStartDecision(None, "the Trainer was given no serving model (no base_model)")
    else:
        serving, unavailable, run_spans = read_serving_model(base_model_dir, model)
        image_size = tuple(model.input_shape[1:3])
        shapes = [tuple(weight.shape) for layer in head_layers(model) for weight in layer.weights]
        decision = decide(serving, unavailable, class_names, image_size, shapes, run_spans)
        if decision.from_version is not None:
            weights = serving_head(base_model_dir, model)
            start = 0
            for layer in head_layers(model):
                count = len(layer.weights)
                layer.set_weights(weights[start:start + count])
                start += count
            decision = dataclasses.replace(decision, head_checksum=checksum(head_weights(model)))
    print(decision.line, flush=True)
    return decision
