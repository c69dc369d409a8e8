"""Training recipes compared on rock-paper-scissors, scored on clips no recipe ever trains or stops on.

    python benchmarks/rps_experiments.py --data-dir DIR [--cache-dir /tmp/rps-features] [--only NAME ...]

Protocol (honest by construction):
- Images are grouped by source clip with the pattern of configs/rock-paper-scissors.yaml.
- A held-out TEST set of whole clips is set aside first (assign_splits with its own seed); no recipe
  sees it until the end. The rest is split train/eval the way the pipeline splits, and the eval
  split alone drives early stopping and model choice, as in the pipeline.
- Every recipe uses the project's own code: the Transform's decode/resize, the converted ImageNet
  weights, the same head (Flatten, Dense 1024 relu, Dropout 0.2, softmax), the same augmentation
  layers, the same class weights and learning-rate schedules.

To make a dozen recipes affordable on 2 CPU cores, the frozen part of InceptionV3 runs once per image
(and once per augmented copy) and its output is cached; a recipe then trains the head (and, for
fine-tuning, the top blocks) on those cached activations. This is the same arithmetic as training
end to end with the frozen layers in inference mode (batch norms stay frozen in the pipeline too);
only augmentation differs: a fixed number of augmented copies per training image instead of a
fresh draw every epoch.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pipeline.process.startup import start  # noqa: E402

start()  # the project's process settings, before TensorFlow is imported

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
import yaml  # noqa: E402

from components import constants  # noqa: E402
from components.ingestion.folder_scan import scan_image_folder  # noqa: E402
from components.ingestion.group_split import assign_splits  # noqa: E402
from components.model.augmentation import build_augmentation  # noqa: E402
from components.model.build import build_head  # noqa: E402
from components.model.settings import AugmentationSettings, TrainerSettings  # noqa: E402
from components.model.training import balanced_class_weights  # noqa: E402
from components.transform.preprocessing import decode_and_resize  # noqa: E402
from components.weights import resolve_weights  # noqa: E402
from collections import Counter  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "configs", "rock-paper-scissors.yaml")
HOLDOUT_SEED = "held-out-test-clips"

# cut: the layer the head sits on; copies: augmented copies of each training image; epochs: the most
# head epochs; patience: early stopping on eval accuracy; schedule, weighting, strength: as in
# TrainerSettings; fine_tune: top blocks below the cut trained after the head (learning rate ft_lr,
# default 1e-5, for at most fine_tune_epochs, default 10, patience ft_patience, default 3);
# smoothing: label smoothing of the cross-entropy (0: off, the pipeline's loss); pool: "average" puts a
# global average pooling before the head's Flatten (which then has nothing to flatten).
RECIPES = {
    "seed recipe: 5 epochs, augmentation": dict(cut="mixed7", copies=2, epochs=5),
    "no augmentation, 5 epochs": dict(cut="mixed7", copies=0, epochs=5),
    "no augmentation, early stopping (<=30)": dict(cut="mixed7", copies=0, epochs=30, patience=4),
    "augmentation, early stopping (<=30)": dict(cut="mixed7", copies=2, epochs=30, patience=4),
    "augmentation, early stopping, cosine lr": dict(cut="mixed7", copies=2, epochs=20, patience=4, schedule="cosine"),
    "augmentation, early stopping, balanced weights": dict(cut="mixed7", copies=2, epochs=30, patience=4, weighting="balanced"),
    "augmentation x1.5 strength, early stopping": dict(cut="mixed7", copies=2, epochs=30, patience=4, strength=1.5),
    "cut at mixed6, augmentation, early stopping": dict(cut="mixed6", copies=2, epochs=30, patience=4),
    "cut at mixed8, augmentation, early stopping": dict(cut="mixed8", copies=2, epochs=30, patience=4),
    "cut at mixed9, augmentation, early stopping": dict(cut="mixed9", copies=2, epochs=30, patience=4),
    "cut at mixed10, augmentation, early stopping": dict(cut="mixed10", copies=2, epochs=30, patience=4),
    "fine-tune top 2 blocks (mixed6-7) after the head": dict(cut="mixed7", copies=2, epochs=30, patience=4, fine_tune=2),
    "colour jitter 0.3 + augmentation, early stopping": dict(cut="mixed7", copies=2, epochs=30, patience=4, color=0.3),
    "dropout 0.5, augmentation, early stopping": dict(cut="mixed7", copies=2, epochs=30, patience=4, dropout=0.5),
    "colour jitter 0.3, fine-tune top 2 blocks": dict(cut="mixed7", copies=2, epochs=30, patience=4, color=0.3, fine_tune=2),
    "cut at mixed5, augmentation, early stopping": dict(cut="mixed5", copies=2, epochs=30, patience=4),
    "fine-tune top 3 blocks (mixed5-7) after the head": dict(cut="mixed7", copies=2, epochs=30, patience=4, fine_tune=3),
    "fine-tune top 4 blocks (mixed4-7) after the head": dict(cut="mixed7", copies=2, epochs=30, patience=4, fine_tune=4),
    "mixed6, dropout 0.5": dict(cut="mixed6", copies=2, epochs=30, patience=4, dropout=0.5),
    "mixed6, colour jitter 0.3": dict(cut="mixed6", copies=2, epochs=30, patience=4, color=0.3),
    "mixed6, label smoothing 0.1": dict(cut="mixed6", copies=2, epochs=30, patience=4, smoothing=0.1),
    "mixed6, 4 copies x1.5 strength, colour 0.3": dict(cut="mixed6", copies=4, epochs=30, patience=4, strength=1.5, color=0.3),
    "mixed5, 4 copies x1.5 strength, colour 0.3": dict(cut="mixed5", copies=4, epochs=30, patience=4, strength=1.5, color=0.3),
    "mixed6, fine-tune top 2 blocks (mixed5-6)": dict(cut="mixed6", copies=2, epochs=30, patience=4, fine_tune=2),
    "fine-tune top 3 blocks at 3e-5 (<=15), 4 copies x1.5 strength, colour 0.3": dict(
        cut="mixed7", copies=4, epochs=30, patience=4, strength=1.5, color=0.3, fine_tune=3, ft_lr=3e-5, fine_tune_epochs=15),
    "mixed6, fine-tune top 2 blocks, 4 copies x1.5 strength, colour 0.3": dict(
        cut="mixed6", copies=4, epochs=30, patience=4, strength=1.5, color=0.3, fine_tune=2),
    "fine-tune top 4 blocks at 3e-5 (<=15), 4 copies x1.5 strength, colour 0.3": dict(
        cut="mixed7", copies=4, epochs=30, patience=4, strength=1.5, color=0.3, fine_tune=4, ft_lr=3e-5, fine_tune_epochs=15),
    "average pooling, augmentation, early stopping": dict(cut="mixed7", copies=2, epochs=30, patience=4, pool="average"),
    "average pooling, mixed6": dict(cut="mixed6", copies=2, epochs=30, patience=4, pool="average"),
    "average pooling, mixed10": dict(cut="mixed10", copies=2, epochs=30, patience=4, pool="average"),
    "balanced weights, each source kind weighted alike": dict(
        cut="mixed7", copies=2, epochs=30, patience=4, weighting="balanced", kind_weighting=True),
    "2x2 max pooling before Flatten, balanced weights": dict(
        cut="mixed7", copies=2, epochs=30, patience=4, weighting="balanced", pool="max2"),
    "average pooling, fine-tune top 3 blocks at 3e-5": dict(
        cut="mixed7", copies=2, epochs=30, patience=4, pool="average", fine_tune=3, ft_lr=3e-5, fine_tune_epochs=15),
}


def load_images(data_dir: str, size: int):
    with open(CONFIG) as handle:
        config = yaml.safe_load(handle)
    scan = scan_image_folder(data_dir, config["group_pattern"], groups_span_classes=config["groups_span_classes"])
    by_kind = config.get("stratify_by_source_kind", False)
    holdout = assign_splits(scan.candidates, 0.2, HOLDOUT_SEED, by_source_kind=by_kind)
    rest = [c for c in scan.candidates if holdout[c.group] == "train"]
    inner = assign_splits(rest, config["eval_fraction"], "transfer-pipeline", by_source_kind=by_kind)
    role = {c.path: ("test" if holdout[c.group] == "eval" else inner[c.group]) for c in scan.candidates}
    images, labels, roles, kinds = [], [], [], []
    for candidate in scan.candidates:
        with open(candidate.path, "rb") as handle:
            images.append(decode_and_resize(tf.constant(handle.read()), size).numpy())
        labels.append(candidate.label)
        roles.append(role[candidate.path])
        kinds.append(candidate.source_kind or "ungrouped")
    groups = {r: len({c.group for c in scan.candidates if role[c.path] == r}) for r in ("train", "eval", "test")}
    return np.stack(images), np.array(labels), np.array(roles), np.array(kinds), scan.class_names, groups


def frozen_activations(extractor, images, batch=32):
    return np.concatenate([extractor.predict(images[i:i + batch], verbose=0) for i in range(0, len(images), batch)])


def cached(path, compute):
    if os.path.exists(path):
        return np.load(path)
    value = compute()
    np.save(path, value)
    return value


def upper_blocks(base, start_layer: str, end_layer: str) -> keras.Model:
    """InceptionV3's layers after start_layer up to end_layer, as a model fed with start_layer's output."""
    names = [layer.name for layer in base.layers]
    begin, end = names.index(start_layer), names.index(end_layer)
    inputs = keras.Input(shape=base.get_layer(start_layer).output.shape[1:])
    tensors = {start_layer: inputs}
    for layer in base.layers[begin + 1:end + 1]:
        inbound = layer._inbound_nodes[0].inbound_layers  # noqa: SLF001  (the functional graph, replayed)
        args = [tensors[l.name] for l in inbound] if isinstance(inbound, list) else tensors[inbound.name]
        tensors[layer.name] = layer(args, training=False) if isinstance(layer, keras.layers.BatchNormalization) else layer(args)
    return keras.Model(inputs, tensors[end_layer])


def sparse_loss(smoothing: float, num_classes: int):
    """Cross-entropy on class ids; with smoothing > 0, on one-hot labels smoothed by that much."""
    if not smoothing:
        return "sparse_categorical_crossentropy"

    def smoothed(y_true, y_pred):
        one_hot = tf.one_hot(tf.cast(tf.reshape(y_true, [-1]), tf.int32), num_classes)
        return keras.losses.categorical_crossentropy(one_hot, y_pred, label_smoothing=smoothing)
    return smoothed


def kind_weights(kinds: np.ndarray) -> np.ndarray:
    """Per example: total / (kinds x its kind's count), so every source kind weighs as much in the loss."""
    names, counts = np.unique(kinds, return_counts=True)
    weight = dict(zip(names, len(kinds) / (len(names) * counts)))
    return np.array([weight[kind] for kind in kinds], np.float32)


def train_recipe(recipe, features, labels, roles, augmented, num_classes, base_for_fine_tune=None, kinds=None):
    settings = TrainerSettings(
        dropout=recipe.get("dropout", 0.2), learning_rate=recipe.get("lr", 1e-4), lr_schedule=recipe.get("schedule", "constant"),
        class_weighting=recipe.get("weighting", "none"),
    )
    keras.utils.set_random_seed(settings.seed)
    train_x = np.concatenate([features[roles == "train"]] + augmented) if augmented else features[roles == "train"]
    train_y = np.concatenate([labels[roles == "train"]] * (1 + len(augmented)))
    eval_x, eval_y = features[roles == "eval"], labels[roles == "eval"]
    counts = Counter(train_y.tolist())
    class_weight = balanced_class_weights(counts, num_classes) if settings.class_weighting == "balanced" else None
    upper = base_for_fine_tune
    inputs = keras.Input(shape=features.shape[1:])
    trunk = upper(inputs) if upper is not None else inputs
    if recipe.get("pool") == "average":
        trunk = keras.layers.GlobalAveragePooling2D()(trunk)
    elif recipe.get("pool") == "max2":
        trunk = keras.layers.MaxPooling2D(2)(trunk)
    model = keras.Model(inputs, build_head(trunk, settings, num_classes))
    if upper is not None:
        upper.trainable = False
    epochs = recipe["epochs"]
    # One pass over the original images = one epoch, whatever the number of augmented copies.
    steps_per_epoch = int(np.ceil((labels[roles == "train"]).size / 32))
    lr = (keras.optimizers.schedules.CosineDecay(settings.learning_rate, epochs * steps_per_epoch)
          if settings.lr_schedule == "cosine" else settings.learning_rate)
    loss = sparse_loss(recipe.get("smoothing", 0.0), num_classes)
    model.compile(keras.optimizers.RMSprop(lr), loss, ["accuracy"])
    callbacks = []
    if recipe.get("patience"):
        callbacks.append(keras.callbacks.EarlyStopping("val_accuracy", patience=recipe["patience"], mode="max",
                                                       restore_best_weights=True))
    columns = (train_x, train_y)
    if recipe.get("kind_weighting"):
        # Each source kind weighs as much as any other, each class too (class weights folded in).
        weights = kind_weights(np.concatenate([kinds[roles == "train"]] * (1 + len(augmented))))
        if class_weight:
            weights = weights * np.array([class_weight[y] for y in train_y], np.float32)
            class_weight = None
        columns = (train_x, train_y, weights)
    data = tf.data.Dataset.from_tensor_slices(columns).shuffle(len(train_x), seed=42).repeat().batch(32)
    history = model.fit(data, steps_per_epoch=steps_per_epoch, epochs=epochs, validation_data=(eval_x, eval_y),
                        callbacks=callbacks, class_weight=class_weight, verbose=0)
    stages = [len(history.epoch)]
    if recipe.get("fine_tune"):
        upper.trainable = True
        for layer in upper.layers:
            layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
        model.compile(keras.optimizers.RMSprop(recipe.get("ft_lr", 1e-5)), loss, ["accuracy"])
        history = model.fit(data, steps_per_epoch=steps_per_epoch, epochs=recipe.get("fine_tune_epochs", 10),
                            validation_data=(eval_x, eval_y), verbose=0,
                            callbacks=[keras.callbacks.EarlyStopping("val_accuracy", patience=recipe.get("ft_patience", 3),
                                                                     mode="max", restore_best_weights=True)])
        stages.append(len(history.epoch))
    return model, stages


def score(model, x, y, class_names, mirrored=None):
    """Accuracy, recall per class and the confusion matrix; with mirrored (the same images' features,
    flipped left to right), of the two predictions' mean probabilities."""
    probabilities = model.predict(x, verbose=0, batch_size=64)
    if mirrored is not None:
        probabilities = (probabilities + model.predict(mirrored, verbose=0, batch_size=64)) / 2
    predicted = np.argmax(probabilities, axis=1)
    matrix = np.zeros((len(class_names), len(class_names)), int)
    for true, guess in zip(y, predicted):
        matrix[true, guess] += 1
    recall = {name: round(matrix[i, i] / max(1, matrix[i].sum()), 3) for i, name in enumerate(class_names)}
    return round(float((predicted == y).mean()), 4), recall, matrix.tolist()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("RPS_DIR"), required=not os.environ.get("RPS_DIR"))
    parser.add_argument("--cache-dir", default="/tmp/rps-features")
    parser.add_argument("--only", nargs="*", help="recipe names (substring match) to run")
    parser.add_argument("--results", default=None, help="append one JSON line per recipe here")
    parser.add_argument("--image-size", type=int, default=constants.IMAGE_HEIGHT,
                        help="side in pixels the images are resized to (the pipeline: %(default)s)")
    args = parser.parse_args()
    if args.image_size != parser.get_default("image_size"):
        args.cache_dir = f"{args.cache_dir}-{args.image_size}px"
    os.makedirs(args.cache_dir, exist_ok=True)
    started = time.time()
    images, labels, roles, kinds, class_names, groups = load_images(args.data_dir, args.image_size)
    print(f"images {len(images)}: " + ", ".join(f"{r} {(roles == r).sum()} ({groups[r]} clips)" for r in ("train", "eval", "test")),
          flush=True)
    weights = resolve_weights("pretrained", None)
    base = keras.applications.InceptionV3(include_top=False, weights=None, input_shape=images.shape[1:])
    base.load_weights(weights)
    train_images = images[roles == "train"]
    for name, recipe in RECIPES.items():
        if args.only and not any(part in name for part in args.only):
            continue
        t0 = time.time()
        feed_layer = f"mixed{int(recipe['cut'][5:]) - recipe['fine_tune']}" if recipe.get("fine_tune") else recipe["cut"]
        extractor = keras.Model(base.input, base.get_layer(feed_layer).output)
        features = cached(os.path.join(args.cache_dir, f"{feed_layer}.npy"), lambda: frozen_activations(extractor, images))
        strength, color = recipe.get("strength", 1.0), recipe.get("color", 0.0)
        augmented = []
        for copy in range(recipe["copies"]):
            augment = build_augmentation(AugmentationSettings(strength=strength, color=color), seed=100 + copy)

            def compute():
                return frozen_activations(extractor, augment(train_images, training=True).numpy())

            augmented.append(cached(os.path.join(args.cache_dir, f"{feed_layer}-aug{strength}{f'-color{color}' if color else ''}-{copy}.npy"), compute))
        upper = upper_blocks(base, feed_layer, recipe["cut"]) if recipe.get("fine_tune") else None
        model, stages = train_recipe(recipe, features, labels, roles, augmented, len(class_names), upper, kinds)
        eval_accuracy, _, _ = score(model, features[roles == "eval"], labels[roles == "eval"], class_names)
        test_accuracy, recall, matrix = score(model, features[roles == "test"], labels[roles == "test"], class_names)
        held_out = images[roles == "test"]
        mirrored = cached(os.path.join(args.cache_dir, f"{feed_layer}-test-mirrored.npy"),
                          lambda: frozen_activations(extractor, held_out[:, :, ::-1, :].copy()))
        mirrored_accuracy, mirrored_recall, _ = score(
            model, features[roles == "test"], labels[roles == "test"], class_names, mirrored)
        row = {"recipe": name, "image_size": args.image_size, "eval_accuracy": eval_accuracy, "test_accuracy": test_accuracy, "test_recall": recall,
               "test_confusion": matrix, "test_accuracy_flip_averaged": mirrored_accuracy,
               "test_recall_flip_averaged": mirrored_recall, "test_accuracy_by_source_kind": {
                   kind: score(model, features[(roles == "test") & (kinds == kind)],
                               labels[(roles == "test") & (kinds == kind)], class_names)[0]
                   for kind in sorted(set(kinds[roles == "test"]))}, "epochs": stages, "seconds": round(time.time() - t0)}
        print(json.dumps(row), flush=True)
        if args.results:
            with open(args.results, "a") as handle:
                handle.write(json.dumps(row) + "\n")
    print(f"total {time.time() - started:.0f}s")


if __name__ == "__main__":
    main()
