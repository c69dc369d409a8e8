"""pipeline/report/training_history.py: loss and accuracy per epoch from the Trainer's model_run artifact."""
import json

import numpy as np
import tf_keras as keras

from pipeline.report.training_history import HISTORY_FILE, read_training_history


def fit_with_tensorboard(log_dir, epochs):
    """What the Trainer does per stage: Keras fit with validation data and a TensorBoard callback."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 2, size=(32, 1)).astype("float32")
    model = keras.Sequential([keras.layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, validation_data=(x, y), epochs=epochs, verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(log_dir=str(log_dir), update_freq="epoch")])
    return history.history


def test_epochs_are_read_back_from_the_keras_tensorboard_logs_of_each_stage(tmp_path):
    head = fit_with_tensorboard(tmp_path / "head", epochs=2)
    fine_tune = fit_with_tensorboard(tmp_path / "fine_tune", epochs=1)

    history = read_training_history(str(tmp_path))

    assert [stage["name"] for stage in history["stages"]] == ["head", "fine_tune"]
    epochs = history["stages"][0]["epochs"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert [e[key] for e in epochs] == [round(v, 4) for v in head[key]], key
    assert history["stages"][1]["epochs"][0]["val_loss"] == round(fine_tune["val_loss"][0], 4)
    assert "TensorBoard" in history["source"]


def test_the_trainers_own_history_file_wins_and_an_empty_run_is_none(tmp_path):
    stages = [{"name": "head", "epochs": [{"epoch": 1, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.4, "val_accuracy": 0.9}]}]
    (tmp_path / HISTORY_FILE).write_text(json.dumps({"stages": stages}))
    assert read_training_history(str(tmp_path)) == {"source": str(tmp_path / HISTORY_FILE), "stages": stages}

    (tmp_path / HISTORY_FILE).write_text(json.dumps({"stages": [{"name": "head", "epochs": []}]}))
    assert read_training_history(str(tmp_path)) is None  # --epochs 0
    assert read_training_history(str(tmp_path / "missing")) is None
