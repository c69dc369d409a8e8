"""The training loop around model.fit: class weights, learning-rate schedule, early stopping, history.

Each stage (the head, then optionally fine-tuning) is one fit() call; what
every epoch gave is kept in training_history.json next to the TensorBoard logs.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from typing import Dict, List, Optional

import tensorflow as tf
import tf_keras as keras

from components.model.settings import TrainerSettings

HISTORY_FILE = "training_history.json"


def balanced_class_weights(counts: Counter, num_classes: int) -> Dict[int, float]:
    """total / (classes * count): a class with fewer examples weighs more, the mean weight is 1."""
    missing = [class_id for class_id in range(num_classes) if not counts.get(class_id)]
    if missing:
        raise ValueError(f"class ids {missing} have no training examples; every class needs some to be weighted")
    total = sum(counts.values())
    return {class_id: total / (num_classes * counts[class_id]) for class_id in range(num_classes)}


def learning_rate(settings: TrainerSettings, initial: float, epochs: int, steps_per_epoch: int):
    if settings.lr_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(initial, decay_steps=max(1, epochs * steps_per_epoch))
    return initial


def _epoch_rows(history: keras.callbacks.History) -> List[dict]:
    names = sorted(history.history)
    return [
        dict({"epoch": epoch + 1}, **{name: round(float(history.history[name][epoch]), 5) for name in names})
        for epoch in range(len(history.epoch))
    ]


def fit_stage(
    model: keras.Model, train, evaluation, epochs: int, settings: TrainerSettings, log_dir: str, stage: str,
    class_weight: Optional[Dict[int, float]] = None, validation: Optional[keras.callbacks.Callback] = None,
) -> dict:
    """Trains one stage; returns {"name", "epochs": [per-epoch metrics], "best_epoch"}. `validation`: a
    callback that puts val_loss and val_accuracy into each epoch's logs, in place of Keras's pass over
    `evaluation` (given first, so early stopping, TensorBoard and the history read its figures)."""
    callbacks = [validation] if validation is not None else []
    callbacks.append(keras.callbacks.TensorBoard(log_dir=os.path.join(log_dir, stage), update_freq="epoch"))
    if settings.early_stopping_patience > 0:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_accuracy", mode="max", patience=settings.early_stopping_patience,
                restore_best_weights=True, verbose=1,
            )
        )
    print(f"Trainer: {stage}, up to {epochs} epoch(s)", flush=True)
    history = model.fit(
        train, validation_data=None if validation is not None else evaluation, epochs=epochs, verbose=2,
        callbacks=callbacks, class_weight=class_weight,
    )
    rows = _epoch_rows(history)
    accuracies = [row.get("val_accuracy", 0.0) for row in rows]
    best = accuracies.index(max(accuracies)) + 1 if settings.early_stopping_patience > 0 and rows else len(rows)
    if settings.early_stopping_patience > 0 and rows:
        print(f"Trainer: {stage}: kept epoch {best} of {len(rows)} (eval accuracy {max(accuracies):.4f})", flush=True)
    return {"name": stage, "epochs": rows, "best_epoch": best}


def write_history(stages: List[dict], log_dir: str, extra: dict) -> str:
    tf.io.gfile.makedirs(log_dir)
    path = os.path.join(log_dir, HISTORY_FILE)
    with tf.io.gfile.GFile(path, "w") as handle:
        json.dump(dict(extra, stages=stages), handle, indent=2)
    return path
