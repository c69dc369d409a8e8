"""components/model/augmentation.py: training-only augmentation, on images in [-1, 1] as Transform writes them."""
import colorsys

import numpy as np
import tensorflow as tf

from components.model.augmentation import RandomHueSaturation, RandomQuarterTurn, build_augmentation
from components.model.settings import AugmentationSettings, TrainerSettings


def _images():
    """Four 8x8 images of one saturated colour each (red, green, blue, orange), in [-1, 1]."""
    colours = np.array([[1.0, 0.1, 0.1], [0.1, 1.0, 0.1], [0.1, 0.1, 1.0], [1.0, 0.6, 0.1]], np.float32)
    return tf.constant(np.broadcast_to(colours[:, None, None, :], (4, 8, 8, 3)) * 2 - 1)


def _hsv(images):
    pixels = (images.numpy()[:, 0, 0, :] + 1) / 2
    return np.array([colorsys.rgb_to_hsv(*pixel) for pixel in pixels])


def test_hue_and_saturation_change_per_image_within_their_bounds_and_keep_brightness():
    images = _images()
    before = _hsv(images)

    after_images = RandomHueSaturation(0.1, 0.3, seed=3)(images, training=True)
    after = _hsv(after_images)

    assert after_images.shape == images.shape
    assert float(tf.reduce_min(after_images)) >= -1.0 and float(tf.reduce_max(after_images)) <= 1.0
    turn = (after[:, 0] - before[:, 0] + 0.5) % 1.0 - 0.5  # the shortest way round the colour wheel
    assert np.all(np.abs(turn) <= 0.1 + 1e-4) and np.all(np.abs(turn) > 1e-4)
    assert len(set(np.round(turn, 4))) == 4, "each image gets its own turn"
    scale = after[:, 1] / before[:, 1]
    assert np.all((scale >= 0.7 - 1e-4) & (scale <= 1.3 + 1e-4))
    np.testing.assert_allclose(after[:, 2], before[:, 2], atol=1e-4)  # value (brightness) untouched
    np.testing.assert_allclose(after_images.numpy()[:, 0, 0], after_images.numpy()[:, 7, 7], atol=1e-6)


def test_hue_and_saturation_leave_images_alone_outside_training_and_when_off():
    images = _images()

    np.testing.assert_array_equal(RandomHueSaturation(0.1, 0.3)(images, training=False).numpy(), images.numpy())
    assert not any(isinstance(layer, RandomHueSaturation) for layer in build_augmentation(AugmentationSettings(color=0.3)).layers)
    assert any(isinstance(layer, RandomHueSaturation) for layer in build_augmentation(AugmentationSettings(hue=0.05)).layers)


def test_each_pass_draws_new_turns():
    layer = RandomHueSaturation(0.2, 0.0, seed=5)
    images = _images()

    first, second = layer(images, training=True).numpy(), layer(images, training=True).numpy()

    assert not np.allclose(first, second)


def test_quarter_turns_give_each_image_one_of_its_four_orientations():
    corner = np.zeros((64, 5, 5, 3), np.float32)
    corner[:, 0, 0, :] = 1.0  # a mark in the top-left corner shows where the image was turned
    images = tf.constant(corner)

    turned = RandomQuarterTurn(seed=1)(images, training=True).numpy()

    marks = [tuple(np.argwhere(image[..., 0] == 1.0)[0]) for image in turned]
    assert set(marks) == {(0, 0), (4, 0), (4, 4), (0, 4)}  # 0, 90, 180, 270 degrees anticlockwise, all drawn
    assert all(np.count_nonzero(image[..., 0]) == 1 for image in turned)  # turned, nothing lost or mirrored away
    np.testing.assert_array_equal(RandomQuarterTurn()(images, training=False).numpy(), corner)
    assert isinstance(build_augmentation(AugmentationSettings(quarter_turns=True)).layers[0], RandomQuarterTurn)


def test_the_trainer_settings_augment_fields_are_the_augmentation_and_augment_off_is_none():
    settings = TrainerSettings(augment_strength=1.5, augment_color=0.2, augment_hue=0.05, augment_saturation=0.3,
                               augment_quarter_turns=True)

    assert settings.augmentation == AugmentationSettings(1.5, 0.2, 0.05, 0.3, True)
    assert TrainerSettings(augment=False, augment_color=0.2).augmentation is None
    assert TrainerSettings().augmentation == AugmentationSettings()  # the seed's augmentation
