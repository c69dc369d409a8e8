"""The cached, converted InceptionV3 weights the weights tests share (converted on first use, then verified)."""
import os

import pytest

from components.weights import ensure_inception_weights, store


@pytest.fixture(scope="module")
def cache_dir():
    return os.environ.get(store.CACHE_ENV_VAR)


@pytest.fixture(scope="module")
def weights_path(cache_dir):
    return ensure_inception_weights(cache_dir)
