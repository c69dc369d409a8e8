"""components/model/signatures.py: what both serving signatures answer for N classes."""
import numpy as np
import tensorflow as tf
import tf_keras as keras

from components import constants
from components.model.signatures import (
    CLASS_ID, CLASS_NAME, CLASS_NAMES, PROBABILITIES, PROBABILITY, _outputs, probabilities_of,
)

CLASSES = ["paper", "rock", "scissors"]


def fixed_softmax_model(logits):
    """A real Keras model whose softmax output does not depend on the image (known answers)."""
    image = keras.Input(shape=(constants.IMAGE_HEIGHT, constants.IMAGE_WIDTH, constants.IMAGE_CHANNELS))
    zeros = keras.layers.Lambda(lambda x: tf.zeros([tf.shape(x)[0], 1]))(image)
    dense = keras.layers.Dense(len(logits), activation="softmax")
    output = dense(zeros)
    dense.set_weights([np.zeros((1, len(logits)), "float32"), np.asarray(logits, "float32")])
    return keras.Model(image, output)


def predict(logits, batch=2):
    images = tf.zeros([batch, constants.IMAGE_HEIGHT, constants.IMAGE_WIDTH, constants.IMAGE_CHANNELS])
    return {k: v.numpy() for k, v in _outputs(fixed_softmax_model(logits)(images), CLASSES).items()}


def test_outputs_name_the_winning_class_its_probability_and_every_class_in_order():
    outputs = predict([0.0, 0.0, 2.0])

    assert list(outputs[CLASS_ID]) == [2, 2]
    assert [name.decode() for name in outputs[CLASS_NAME]] == ["scissors", "scissors"]
    assert outputs[PROBABILITIES].shape == (2, 3)
    np.testing.assert_allclose(outputs[PROBABILITIES].sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(outputs[PROBABILITY], outputs[PROBABILITIES][:, 2])
    assert outputs[PROBABILITY][0] > 0.7
    assert [[name.decode() for name in row] for row in outputs[CLASS_NAMES]] == [CLASSES, CLASSES]


def test_the_first_class_can_win_too():
    outputs = predict([3.0, 0.0, 0.0], batch=1)

    assert list(outputs[CLASS_ID]) == [0]
    assert outputs[CLASS_NAME][0] == b"paper"


def left_or_right_model():
    """A real Keras model that tells where an image is bright: class 0 on the left half, class 1 on the right."""
    image = keras.Input(shape=(8, 8, constants.IMAGE_CHANNELS))
    halves = keras.layers.Lambda(lambda x: 10.0 * tf.stack(
        [tf.reduce_mean(x[:, :, :4, :], axis=[1, 2, 3]), tf.reduce_mean(x[:, :, 4:, :], axis=[1, 2, 3])], axis=1))(image)
    return keras.Model(image, keras.layers.Softmax()(halves))


def test_test_time_flip_answers_with_the_mean_of_the_image_and_its_mirror_image():
    model = left_or_right_model()
    images = np.full((2, 8, 8, 3), -1.0, "float32")
    images[0, :, :2, :] = 1.0  # bright far left
    images[1, :, 3:5, :] = 1.0  # bright across the middle, a little more on the right
    images[1, :, 5, :] = 0.0
    single = probabilities_of(model, tf.constant(images)).numpy()
    mirrored = model(images[:, :, ::-1, :].copy()).numpy()

    averaged = probabilities_of(model, tf.constant(images), test_time_flip=True).numpy()

    assert single[0, 0] > 0.9 and mirrored[0, 1] > 0.9  # the mirror image tells the other side
    np.testing.assert_allclose(averaged, (single + mirrored) / 2, rtol=1e-6)
    np.testing.assert_allclose(averaged.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(probabilities_of(model, tf.constant(images), test_time_flip=False).numpy(), single)
