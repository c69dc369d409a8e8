"""components/model/training.py: class weights, learning-rate schedules, early stopping, history."""
import json
from collections import Counter

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from components.model.settings import TrainerSettings
from components.model.training import (
    HISTORY_FILE, balanced_class_weights, fit_stage, learning_rate, write_history,
)


def test_balanced_weights_make_each_class_weigh_the_same_in_total():
    counts = Counter({0: 553, 1: 740, 2: 584})

    weights = balanced_class_weights(counts, 3)

    totals = [weights[i] * counts[i] for i in range(3)]
    assert totals == pytest.approx([sum(counts.values()) / 3] * 3)
    assert weights[1] < weights[2] < weights[0]  # the largest class weighs least


def test_balanced_weights_refuse_a_class_without_examples():
    with pytest.raises(ValueError, match=r"class ids \[2\]"):
        balanced_class_weights(Counter({0: 5, 1: 5}), 3)


def test_cosine_schedule_decays_to_zero_over_the_stage_and_constant_stays():
    schedule = learning_rate(TrainerSettings(lr_schedule="cosine"), 1e-3, epochs=4, steps_per_epoch=10)

    assert float(schedule(0)) == pytest.approx(1e-3)
    assert float(schedule(40)) == pytest.approx(0.0, abs=1e-9)
    assert learning_rate(TrainerSettings(), 1e-3, 4, 10) == 1e-3


def tiny_problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, data


def test_early_stopping_stops_when_eval_accuracy_stalls_and_history_records_each_epoch(tmp_path):
    model, data = tiny_problem()  # learning rate 0: eval accuracy never improves after epoch 1

    stage = fit_stage(model, data, data, epochs=10, settings=TrainerSettings(early_stopping_patience=2),
                      log_dir=str(tmp_path), stage="head")

    assert len(stage["epochs"]) == 3 and stage["best_epoch"] == 1
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(stage["epochs"][0])
    path = write_history([stage], str(tmp_path), {"class_names": ["a", "b"]})
    assert path.endswith(HISTORY_FILE)
    assert json.load(open(path))["stages"][0]["name"] == "head"


def test_without_early_stopping_every_epoch_runs(tmp_path):
    model, data = tiny_problem()

    stage = fit_stage(model, data, data, epochs=3, settings=TrainerSettings(), log_dir=str(tmp_path), stage="head")

    assert [row["epoch"] for row in stage["epochs"]] == [1, 2, 3] and stage["best_epoch"] == 3
