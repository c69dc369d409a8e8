"""Trainer module file (run_fn). TFX packages every .py in this directory, so it holds run_fn alone."""
import os

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from absl import logging

from components.model.build import build_transfer_model, compile_model, unfreeze_top_blocks
from components.model.dataset import transformed_dataset
from components.model.settings import TrainerSettings
from components.model.signatures import build_signatures
from components.schema_contract import class_names_of, load_schema
from components.weights import resolve_weights


def _fit(model, train, evaluation, epochs, log_dir, stage):
    if epochs <= 0:
        logging.warning("%s: 0 epochs, the head keeps its random initial weights", stage)
        return
    print(f"Trainer: {stage}, {epochs} epoch(s)", flush=True)
    model.fit(
        train,
        validation_data=evaluation,
        epochs=epochs,
        verbose=2,
        callbacks=[keras.callbacks.TensorBoard(log_dir=os.path.join(log_dir, stage), update_freq="epoch")],
    )


def run_fn(fn_args):
    settings = TrainerSettings.from_dict(fn_args.custom_config or {})
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    class_names = class_names_of(load_schema(fn_args.schema_path))
    if len(class_names) != 2:
        raise ValueError(f"{fn_args.schema_path}: the schema must name exactly 2 classes, got {class_names}")

    def dataset(files, training):
        return transformed_dataset(
            files, fn_args.data_accessor, tf_transform_output, settings.batch_size,
            shuffle=training, augment=training and settings.augment, seed=settings.seed,
        )

    train, evaluation = dataset(fn_args.train_files, True), dataset(fn_args.eval_files, False)
    weights = resolve_weights(settings.weights, settings.weights_cache_dir or None)
    model = build_transfer_model(settings, weights)
    _fit(model, train, evaluation, settings.epochs, fn_args.model_run_dir, "head")
    if settings.fine_tune_blocks > 0:
        unfrozen = unfreeze_top_blocks(model, settings.cut_layer, settings.fine_tune_blocks)
        compile_model(model, settings.fine_tune_learning_rate)
        logging.info("fine-tuning %d layers of the top %d blocks", unfrozen, settings.fine_tune_blocks)
        _fit(model, train, evaluation, settings.fine_tune_epochs, fn_args.model_run_dir, "fine_tune")

    signatures = build_signatures(model, tf_transform_output, class_names)
    # Without optimizer state: RMSprop slots would triple the SavedModel's size.
    model.save(fn_args.serving_model_dir, save_format="tf", signatures=signatures, include_optimizer=False)
    tf.io.gfile.makedirs(fn_args.model_run_dir)
    print(f"Trainer: model saved to {fn_args.serving_model_dir}", flush=True)
