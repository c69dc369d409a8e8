"""components/model/signatures.py: what both serving signatures answer for N classes."""
import numpy as np
import tensorflow as tf
import tf_keras as keras

from components import constants
from components.model.signatures import CLASS_ID, CLASS_NAME, CLASS_NAMES, PROBABILITIES, PROBABILITY, _outputs

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
