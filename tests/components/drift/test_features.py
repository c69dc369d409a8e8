"""The pooled features of the real frozen base (pretrained weights, mixed7) on eight real images: what the
content check compares must follow the pictures, not their files."""
import io

import numpy as np
import pytest
from PIL import Image

from components.drift.features import PooledFeatureExtractor, span_statistics
from components.model.settings import TrainerSettings

# Two views of two subjects of each class.
NAMES = ["horses/horse01-0.png", "horses/horse01-1.png", "horses/horse02-0.png", "horses/horse02-1.png",
         "humans/human01-00.png", "humans/human01-01.png", "humans/human02-00.png", "humans/human02-01.png"]


@pytest.fixture(scope="module")
def extractor():
    return PooledFeatureExtractor(TrainerSettings(), progress=lambda message: None)


@pytest.fixture(scope="module")
def images(horse_or_human_dir):
    return [(horse_or_human_dir / name).read_bytes() for name in NAMES]


def test_one_vector_per_image_and_the_same_for_the_same_pixels_in_another_format(extractor, images):
    features = extractor(images, batch_size=3)  # batches of 3, 3, 2: the order kept across batches
    assert features.shape == (8, 768) and features.dtype == np.float32
    assert np.all(np.isfinite(features)) and features.min() >= 0  # mixed7 ends in ReLUs: averages are >= 0
    bmp = io.BytesIO()
    Image.open(io.BytesIO(images[0])).convert("RGB").save(bmp, format="BMP")  # lossless: the same pixels
    assert np.allclose(extractor([bmp.getvalue()])[0], features[0], atol=1e-4)
    assert np.allclose(extractor(images[5:6])[0], features[5], atol=1e-4)


def test_each_image_is_nearest_to_one_of_its_own_class(extractor, images):
    features = extractor(images)
    distances = np.linalg.norm(features[:, None] - features[None], axis=-1) + np.diag([np.inf] * 8)
    nearest = distances.argmin(axis=1)
    assert [n // 4 for n in nearest] == [0] * 4 + [1] * 4


def test_a_span_summary_keeps_every_count_and_a_bounded_sample_of_features(extractor, images):
    classes = [name.split("/")[0] for name in NAMES]
    groups = [name.split("/")[1].split("-")[0] for name in NAMES]
    summary = span_statistics(images, classes, groups, extractor, max_rows=4, seed=0)
    assert summary.class_counts == {"horses": 4, "humans": 4} and summary.format_counts == {"png": 8}
    assert (summary.size.median_width, summary.size.max_height) == (300, 300)
    assert summary.feature_rows.shape == (4, 768) and summary.feature_rows.dtype == np.float16
    assert set(summary.feature_groups) <= set(groups)
    assert summary.feature_extractor == "InceptionV3 to mixed7, weights pretrained, 150 px, global average pool"
