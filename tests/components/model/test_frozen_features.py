"""components/model/frozen_features.py: without augmentation the frozen base runs once per image and
the head trained on its cached output is the exported model's head; with it, the head stage's validation
reads the base's cached output on the eval images and gives Keras's own figures."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.model.build import extractor_of
from components.model.frozen_features import (ValidationOnFrozenFeatures, fit_head_on_frozen_features,
                                              frozen_feature_dataset, head_of)
from components.model.settings import TrainerSettings
from components.model.training import fit_stage


def small_transfer_model():
    """The shape build_transfer_model gives (a frozen base named inception_v3_to_*, then the head), small."""
    keras.utils.set_random_seed(0)
    image = keras.Input((8, 8, 3))
    base = keras.Model(image, keras.layers.Conv2D(4, 3, activation="relu")(image), name="inception_v3_to_mixed7")
    base.trainable = False
    x = base(image, training=False)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(16, activation="relu")(x)
    x = keras.layers.Dropout(0.2)(x)
    return keras.Model(image, keras.layers.Dense(3, activation="softmax", name="probabilities")(x))


def images_and_labels(n=40):
    rng = np.random.default_rng(1)
    return rng.uniform(-1, 1, size=(n, 8, 8, 3)).astype("float32"), rng.integers(0, 3, size=n)


def test_the_head_shares_its_weights_with_the_model_it_came_from():
    model = small_transfer_model()
    head = head_of(model)
    images, _ = images_and_labels(4)

    np.testing.assert_allclose(head(extractor_of(model)(images)), model(images), rtol=1e-6)
    assert {id(w) for w in head.trainable_weights} == {id(w) for w in model.trainable_weights}


def test_the_base_runs_on_the_first_pass_only_and_later_passes_reshuffle_the_same_features(tmp_path):
    model = small_transfer_model()
    extractor = extractor_of(model)
    calls = tf.Variable(0)

    def counted(batch, training=False):
        calls.assign_add(tf.shape(batch)[0])
        return extractor(batch, training=training)

    images, labels = images_and_labels()
    source = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
    dataset = frozen_feature_dataset(counted, source, str(tmp_path / "train"), batch_size=8, shuffle=True, seed=3)

    first = [(f.numpy(), l.numpy()) for f, l in dataset]
    second = [(f.numpy(), l.numpy()) for f, l in dataset]

    assert int(calls.numpy()) == 40  # every image once, on the first pass

    def by_label(passes):
        return sorted((int(l), float(f.sum())) for features, label in passes for f, l in zip(features, label))
    assert by_label(first) == by_label(second)  # the same features, read back from the cache
    assert [l.tolist() for _, l in first] != [l.tolist() for _, l in second]  # in a new order


def test_training_the_head_on_cached_features_trains_the_exported_model(tmp_path):
    model = small_transfer_model()
    model.compile(keras.optimizers.RMSprop(1e-2), "sparse_categorical_crossentropy", ["accuracy"])
    images, labels = images_and_labels()
    before = model.predict(images, verbose=0)
    source = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)

    stage = fit_head_on_frozen_features(model, source, source, TrainerSettings(epochs=3, batch_size=8), str(tmp_path),
                                        None, 1e-2)

    assert [row["epoch"] for row in stage["epochs"]] == [1, 2, 3] and "val_accuracy" in stage["epochs"][0]
    assert not np.allclose(model.predict(images, verbose=0), before)  # the full model's head moved


def test_validation_on_cached_features_gives_kerass_own_validation_figures(tmp_path):
    """Two identical models trained the same way, one validated by Keras's pass over the eval images, the
    other by ValidationOnFrozenFeatures: the same val_loss and val_accuracy every epoch."""
    images, labels = images_and_labels()
    train = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
    evaluation = tf.data.Dataset.from_tensor_slices(images_and_labels(24)).batch(8)
    histories = []
    for use_cache in (False, True):
        model = small_transfer_model()
        model.compile(keras.optimizers.RMSprop(1e-2), "sparse_categorical_crossentropy", ["accuracy"])
        validation = ValidationOnFrozenFeatures(model, evaluation, str(tmp_path / "eval"), 8) if use_cache else None
        stage = fit_stage(model, train, evaluation, 3, TrainerSettings(early_stopping_patience=2), str(tmp_path / str(use_cache)),
                          "head", validation=validation)
        histories.append(stage["epochs"])

    keras_own, cached = histories
    for theirs, ours in zip(keras_own, cached):
        assert ours["val_accuracy"] == theirs["val_accuracy"]
        assert ours["val_loss"] == pytest.approx(theirs["val_loss"], rel=1e-5)
    assert len({row["val_loss"] for row in cached}) == 3  # the head moved: each epoch measured anew
