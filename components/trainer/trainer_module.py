"""Trainer entry point: run_fn, named by import path in the pipeline (pipeline/pipeline.py: RUN_FN)."""
import ctypes
import gc
import math
import os
import tempfile
import time

import tensorflow_transform as tft
import tf_keras as keras
from absl import logging

from components import constants
from components.model.build import build_transfer_model, compile_model, drop_spare_bases, unfreeze_top_blocks
from components.model.dataset import label_counts, model_input_dataset
from components.model.frozen_features import ValidationOnFrozenFeatures, fit_head_on_frozen_features
from components.model.settings import TrainerSettings
from components.model.signatures import build_signatures
from components.model.training import balanced_class_weights, fit_stage, learning_rate, write_history
from components.model.warm_start import warm_start
from components.schema_contract import class_names_of, load_schema
from components.weights import resolve_weights


def run_fn(fn_args):
    """TFX's Trainer hands over the ingested examples and the Transform graph. Each split's images, once the
    graph has decoded them, are kept in a cache file under a folder removed when the Trainer is done."""
    with tempfile.TemporaryDirectory(prefix="transformed-images-") as cache_dir:
        _train_and_export(fn_args, cache_dir)


def _train_and_export(fn_args, cache_dir: str) -> None:
    settings = TrainerSettings.from_dict(fn_args.custom_config or {})
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    class_names = class_names_of(load_schema(fn_args.schema_path))
    if len(class_names) < 2:
        raise ValueError(f"{fn_args.schema_path}: the schema must name at least 2 classes, got {class_names}")

    feature_spec = tf_transform_output.transformed_feature_spec()
    raw_feature_spec = tf_transform_output.raw_feature_spec()
    transform_layer = tf_transform_output.transform_features_layer()

    def dataset(split, files, training):
        # One cache file per split: a split read by two datasets (without augmentation, the frozen stage's in a
        # fixed order, then fine-tuning's shuffled) is decoded once; the second reads what the first's whole
        # pass cached. The datasets are still made in the same order, so each draws the same seeds.
        return model_input_dataset(
            files, transform_layer, raw_feature_spec, settings.batch_size, shuffle=training, seed=settings.seed,
            augmentation=settings.augmentation if training else None,
            cache_file=os.path.join(cache_dir, f"images-{split}"),
        )

    started = time.monotonic()
    train = dataset(constants.TRAIN_SPLIT, fn_args.train_files, True)
    evaluation = dataset(constants.EVAL_SPLIT, fn_args.eval_files, False)
    counts = label_counts(fn_args.train_files, constants.LABEL_KEY, raw_feature_spec[constants.LABEL_KEY])
    print("Trainer: train examples: " + ", ".join(f"{name} {counts.get(i, 0)}" for i, name in enumerate(class_names)), flush=True)
    class_weight = balanced_class_weights(counts, len(class_names)) if settings.class_weighting == "balanced" else None
    if class_weight:
        print("Trainer: class weights: " + ", ".join(f"{class_names[i]} {w:.3f}" for i, w in class_weight.items()), flush=True)
    steps = math.ceil(sum(counts.values()) / settings.batch_size)

    weights = resolve_weights(settings.weights, settings.weights_cache_dir or None)
    # The model takes the images at the size the Transform graph makes them (the config's image_size).
    input_shape = tuple(feature_spec[constants.TRANSFORMED_IMAGE_KEY].shape)
    if input_shape[:2] != (settings.image_size, settings.image_size):
        raise ValueError(
            f"{fn_args.transform_output}: the Transform graph makes {input_shape[0]}x{input_shape[1]} images, but the "
            f"Trainer's image_size is {settings.image_size}; run the Transform with the same image_size"
        )
    print(f"Trainer: input images {input_shape[0]}x{input_shape[1]}", flush=True)
    model = build_transfer_model(settings, weights, len(class_names), input_shape)
    compile_model(model, learning_rate(settings, settings.learning_rate, settings.epochs, steps))
    # The serving model's head, when it fits (components/model/warm_start.py: decide); recorded in the history.
    warm = warm_start(model, fn_args.base_model, class_names).to_dict() if settings.warm_start else None
    print(f"Trainer: examples counted and model built in {time.monotonic() - started:.1f}s", flush=True)
    stages = []
    if settings.epochs > 0 and not settings.augment:
        # Same images every epoch: the frozen base runs once per image, the head trains on its cached output.
        stages.append(fit_head_on_frozen_features(
            model, dataset(constants.TRAIN_SPLIT, fn_args.train_files, False), evaluation, settings,
            fn_args.model_run_dir, class_weight, learning_rate(settings, settings.learning_rate, settings.epochs, steps),
        ))
    elif settings.epochs > 0:
        # The base is frozen in this stage: its output on the eval images is computed once, the head's
        # validation reads it every epoch (frozen_features.ValidationOnFrozenFeatures).
        with tempfile.TemporaryDirectory(prefix="eval-features-") as cache:
            validation = ValidationOnFrozenFeatures(model, evaluation, os.path.join(cache, "eval"), settings.batch_size)
            stages.append(fit_stage(model, train, evaluation, settings.epochs, settings, fn_args.model_run_dir, "head",
                                    class_weight, validation))
    else:
        logging.warning("head: 0 epochs, the head keeps its random initial weights")
    if settings.fine_tune_blocks > 0 and settings.fine_tune_epochs > 0:
        unfrozen = unfreeze_top_blocks(model, settings.cut_layer, settings.fine_tune_blocks)
        compile_model(model, learning_rate(settings, settings.fine_tune_learning_rate, settings.fine_tune_epochs, steps))
        print(f"Trainer: fine-tuning {unfrozen} layers of the top {settings.fine_tune_blocks} blocks", flush=True)
        stages.append(fit_stage(
            model, train, evaluation, settings.fine_tune_epochs, settings, fn_args.model_run_dir, "fine_tune", class_weight
        ))
    write_history(stages, fn_args.model_run_dir, {"class_names": class_names, "train_counts": {
        class_names[i]: counts.get(i, 0) for i in range(len(class_names))}, "settings": settings.to_dict(),
        **({"warm_start": warm} if warm else {})})

    started = time.monotonic()
    signatures = build_signatures(model, tf_transform_output, class_names, settings.test_time_flip)
    # Without optimizer state (RMSprop slots would triple the SavedModel's size) and without Keras's
    # per-layer traces (seconds per save for 300 layers): every consumer (TFMA, TF Serving, predict, the
    # report) calls the signatures.
    model.save(fn_args.serving_model_dir, save_format="tf", signatures=signatures, include_optimizer=False,
               save_traces=False)
    print(f"Trainer: model saved to {fn_args.serving_model_dir} in {time.monotonic() - started:.1f}s", flush=True)
    # A local run's Evaluator loads the SavedModel next, in this process: the training model, its
    # graphs and the datasets' buffers are freed first instead of adding to its peak memory.
    del model, signatures, train, evaluation
    drop_spare_bases()
    keras.backend.clear_session()
    gc.collect()
    return_freed_memory()


def return_freed_memory() -> bool:
    """Hands the free pages of the C heap back to the system (glibc's malloc_trim). glibc keeps what is freed
    for later allocations, so the memory the training freed stayed in the process: a local run's Evaluator,
    next in the same process, then reached its high-water mark on top of it (2.66 GB in one traced run;
    2.56 GB, the Trainer's own export, with this). Returns whether any was handed back (False where the C
    library is not glibc)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    return trim(0) == 1
