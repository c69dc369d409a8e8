"""components/transform/preprocessing.py: encoded images -> [N, 150, 150, 3] floats in [-1, 1]
(or the config's image_size a side).

preprocessing_fn is fed the way tf.Transform feeds it: the schema gives every
feature one value (shape dim 1), so each arrives as a dense [N, 1] tensor.
"""
import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from components import constants
from components.transform.preprocessing import decode_and_resize, preprocessing_fn

WHITE, BLACK, RED = (255, 255, 255), (0, 0, 0), (255, 0, 0)


def encode(image, image_format, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def solid(colour, size=(64, 48), mode="RGB"):
    return Image.new("RGB", size, colour).convert(mode)


def transform(images, labels=None, custom_config=None):
    labels = labels if labels is not None else [0] * len(images)
    inputs = {
        constants.IMAGE_BYTES_KEY: tf.constant([[b] for b in images]),
        constants.LABEL_KEY: tf.constant([[label] for label in labels], tf.int64),
    }
    outputs = preprocessing_fn(inputs, custom_config)
    return outputs[constants.TRANSFORMED_IMAGE_KEY].numpy(), outputs[constants.TRANSFORMED_LABEL_KEY].numpy()


def test_mixed_batch_gives_model_ready_tensors_and_keeps_labels(horse_png, horse_rgb):
    batch = [
        horse_png,  # real 300x300 RGBA PNG
        encode(horse_rgb, "JPEG"),
        encode(horse_rgb.convert("L"), "JPEG"),
        encode(horse_rgb.convert("P"), "GIF"),
        encode(horse_rgb.resize((120, 90)), "BMP"),
    ]

    images, labels = transform(batch, labels=[0, 1, 1, 0, 1])

    assert images.shape == (5, constants.IMAGE_HEIGHT, constants.IMAGE_WIDTH, constants.IMAGE_CHANNELS)
    assert images.dtype == np.float32
    assert images.min() >= -1.0 - 1e-5 and images.max() <= 1.0 + 1e-5  # float rounding only
    assert labels.tolist() == [0, 1, 1, 0, 1] and labels.shape == (5,)


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "GIF", "BMP"])
def test_white_maps_to_one_and_black_to_minus_one(image_format):
    images, _ = transform([encode(solid(WHITE), image_format), encode(solid(BLACK), image_format)])

    np.testing.assert_allclose(images[0], 1.0, atol=1e-2)
    np.testing.assert_allclose(images[1], -1.0, atol=1e-2)


@pytest.mark.parametrize("image_format", ["PNG", "BMP", "JPEG"])
def test_channels_stay_in_rgb_order(image_format):
    (image,), _ = transform([encode(solid(RED), image_format)])

    np.testing.assert_allclose(image.mean(axis=(0, 1)), [1.0, -1.0, -1.0], atol=0.03)


def test_grayscale_becomes_three_equal_channels():
    (image,), _ = transform([encode(solid((128, 128, 128), mode="L"), "PNG")])

    np.testing.assert_allclose(image, 128 / 127.5 - 1.0, atol=1e-5)


def test_alpha_channel_is_dropped_without_changing_colours(horse_png, horse_rgb):
    images, _ = transform([horse_png, encode(horse_rgb, "PNG")])

    assert Image.open(io.BytesIO(horse_png)).mode == "RGBA"
    np.testing.assert_allclose(images[0], images[1], atol=1e-6)


def test_jpeg_of_a_real_image_looks_like_the_png(horse_png, horse_rgb):
    images, _ = transform([horse_png, encode(horse_rgb, "JPEG", quality=90)])

    assert np.abs(images[0] - images[1]).mean() < 0.03


def test_animated_gif_gives_its_first_frame():
    gif = encode(solid(WHITE), "GIF", save_all=True, append_images=[solid(BLACK), solid(RED)])

    (image,), _ = transform([gif])

    np.testing.assert_allclose(image, 1.0, atol=1e-2)


def test_resize_keeps_the_layout_of_the_picture():
    picture = solid(BLACK, size=(300, 200))
    picture.paste(WHITE, (0, 0, 150, 200))  # left half white

    image = decode_and_resize(tf.constant(encode(picture, "PNG"))).numpy()

    assert image.shape == (150, 150, 3)
    np.testing.assert_allclose(image[:, :70], 1.0, atol=1e-3)
    np.testing.assert_allclose(image[:, 80:], -1.0, atol=1e-3)


def test_traced_like_transform_the_output_shape_is_static(horse_png):
    signature = {
        constants.IMAGE_BYTES_KEY: tf.TensorSpec([None, 1], tf.string),
        constants.LABEL_KEY: tf.TensorSpec([None, 1], tf.int64),
    }
    traced = tf.function(preprocessing_fn, input_signature=[signature]).get_concrete_function()

    image_spec = traced.structured_outputs[constants.TRANSFORMED_IMAGE_KEY]
    assert image_spec.shape.as_list() == [None, 150, 150, 3] and image_spec.dtype == tf.float32
    assert traced.structured_outputs[constants.TRANSFORMED_LABEL_KEY].shape.as_list() == [None]


def test_the_config_image_size_sets_the_side_images_are_resized_to(horse_png, horse_rgb):
    images, _ = transform([horse_png, encode(horse_rgb.resize((120, 90)), "JPEG")], custom_config={
        "image_size": 224, "code_fingerprint": "abc"})

    assert images.shape == (2, 224, 224, constants.IMAGE_CHANNELS)
    # The same picture at both sizes: a finer grid over the same colours, not another crop.
    small, _ = transform([horse_png])
    np.testing.assert_allclose(images[0].mean(axis=(0, 1)), small[0].mean(axis=(0, 1)), atol=0.02)


@pytest.mark.parametrize("size", [74, 513, "224", True, 224.0])
def test_an_image_size_out_of_range_or_not_a_whole_number_is_refused_naming_the_range(horse_png, size):
    with pytest.raises(ValueError, match="image_size must be a whole number of pixels from 75 to 512") as raised:
        transform([horse_png], custom_config={"image_size": size})

    assert repr(size) in str(raised.value)
