"""Warm start's benefit, measured: epochs and time to the same eval accuracy, warm against scratch, on a second span.

    python benchmarks/warm_start.py --data-dir HORSE_OR_HUMAN_DIR [--seeds 3] [--epochs 3] [--json results.json] \
        [--cache /tmp/warm_start_features.npz]

horse-or-human is split by subject: every fifth subject of each class (in subject order) is the eval set,
the same for every model; of the others the first half is span-1, the second half span-2. For each seed:

- "serving": the pipeline's model (the trainer's default settings: pretrained InceptionV3 to mixed7, the
  1024-unit head, learning rate 1e-4, no augmentation) trained --serving-epochs on span-1;
- "scratch": a fresh head (the same seed) trained --epochs on span-1 + span-2; its eval accuracy after the
  last epoch is the target;
- "warm": a head that starts from the serving head's weights (components/model/warm_start.py's head_layers),
  trained --epochs on span-1 + span-2 in the same order.

It reports, per seed and as mean and spread (min-max), the first epoch at which each reaches the target
(0: before any training), the seconds that took, and the warm head's eval accuracy before training. As
without augmentation in the Trainer (components/model/frozen_features.py) the frozen base runs once per
image and the heads train on its cached output; the seconds are the head's training (one epoch's time
measured per model), not the base's. The head is copied in memory here: the pipeline reads it from the
serving SavedModel's checkpoint, which tests/components/model/test_warm_start_decision.py and the e2e check weight
for weight. Results: docs/quality.md, "Warm start".
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from components.model.build import build_transfer_model, compile_model, extractor_of  # noqa: E402
from components.model.frozen_features import head_of  # noqa: E402
from components.model.settings import TrainerSettings  # noqa: E402
from components.model.warm_start import head_layers  # noqa: E402
from components.transform.preprocessing import images_from_bytes  # noqa: E402
from components.weights.store import resolve_weights  # noqa: E402

CLASSES = ("horses", "humans")
SUBJECT = re.compile(r"^((?:horse|human)\d+)-")


def commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def spans_by_subject(data_dir: str):
    """{eval, span-1, span-2: [(path, label)]}: every fifth subject of a class is eval, the rest halved."""
    split = {"eval": [], "span-1": [], "span-2": []}
    for label, class_name in enumerate(CLASSES):
        files = sorted(os.listdir(os.path.join(data_dir, class_name)))
        subjects = sorted({SUBJECT.match(name).group(1) for name in files if SUBJECT.match(name)})
        held_out = set(subjects[4::5])
        rest = [s for s in subjects if s not in held_out]
        first = set(rest[: len(rest) // 2])
        for name in files:
            match = SUBJECT.match(name)
            if not match:
                continue
            subject = match.group(1)
            part = "eval" if subject in held_out else "span-1" if subject in first else "span-2"
            split[part].append((os.path.join(data_dir, class_name, name), label))
    return split


def frozen_features(extractor, rows, image_size: int, batch_size: int = 32):
    """(features of the frozen base, labels) of rows, in order."""
    chunks = []
    for start in range(0, len(rows), batch_size):
        batch = tf.constant([open(path, "rb").read() for path, _ in rows[start:start + batch_size]])
        chunks.append(extractor(images_from_bytes(batch, image_size), training=False).numpy())
        print(f"  features {min(start + batch_size, len(rows))}/{len(rows)}", end="\r", flush=True)
    print()
    return np.concatenate(chunks), np.array([label for _, label in rows])


def new_head(settings: TrainerSettings, weights: str, seed: int):
    model = build_transfer_model(TrainerSettings(**dict(settings.to_dict(), seed=seed)), weights, len(CLASSES))
    head = head_of(model)
    compile_model(head, settings.learning_rate)
    return model, head


def train(head, train_set, eval_set, epochs: int, batch_size: int, seed: int):
    """([eval accuracy before training, after epoch 1, ...], [eval loss likewise], seconds per epoch of training)."""
    scores = [head.evaluate(*eval_set, batch_size=256, verbose=0)]
    training_s = 0.0
    for epoch in range(epochs):
        order = np.random.default_rng(seed * 1000 + epoch).permutation(len(train_set[1]))
        started = time.monotonic()
        head.fit(train_set[0][order], train_set[1][order], batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
        training_s += time.monotonic() - started
        scores.append(head.evaluate(*eval_set, batch_size=256, verbose=0))
    return ([round(float(a), 4) for _, a in scores], [round(float(loss), 4) for loss, _ in scores],
            training_s / max(epochs, 1))


def first_epoch_at(accuracies, target: float):
    return next((epoch for epoch, accuracy in enumerate(accuracies) if accuracy >= target - 1e-9), None)


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return "never"
    return f"{statistics.mean(values):.4g} ({min(values):g}-{max(values):g})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("HORSE_OR_HUMAN_DIR"), required="HORSE_OR_HUMAN_DIR" not in os.environ)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the scratch and warm heads on span-1 + span-2")
    parser.add_argument("--serving-epochs", type=int, default=2, help="epochs of the serving head on span-1 (the pipeline's default)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--cache", help="the frozen base's features, kept here between runs (an .npz, about 110 MB)")
    args = parser.parse_args()

    settings = TrainerSettings(augment=False)
    weights = resolve_weights(settings.weights, settings.weights_cache_dir)
    parts = spans_by_subject(args.data_dir)
    print({part: len(rows) for part, rows in parts.items()})
    started = time.monotonic()
    if args.cache and os.path.exists(args.cache):
        cached = np.load(args.cache)
        features = {part: (cached[f"{part}/x"], cached[f"{part}/y"]) for part in parts}
    else:
        model, _ = new_head(settings, weights, 0)
        features = {part: frozen_features(extractor_of(model), rows, settings.image_size) for part, rows in parts.items()}
        if args.cache:
            np.savez(args.cache, **{f"{part}/{k}": v for part, xy in features.items() for k, v in zip("xy", xy)})
    features_s = time.monotonic() - started
    both = (np.concatenate([features["span-1"][0], features["span-2"][0]]),
            np.concatenate([features["span-1"][1], features["span-2"][1]]))

    runs = []
    for seed in range(args.seeds):
        serving_model, serving = new_head(settings, weights, seed)
        serving_acc, _, _ = train(serving, features["span-1"], features["eval"], args.serving_epochs, settings.batch_size, seed)
        _, scratch = new_head(settings, weights, seed)
        scratch_acc, scratch_loss, scratch_epoch_s = train(scratch, both, features["eval"], args.epochs, settings.batch_size, seed)
        warm_model, warm = new_head(settings, weights, seed)
        # head_layers takes the whole model (base first); the head model shares these layers' weights.
        for target_layer, source_layer in zip(head_layers(warm_model), head_layers(serving_model)):
            target_layer.set_weights(source_layer.get_weights())
        warm_acc, warm_loss, warm_epoch_s = train(warm, both, features["eval"], args.epochs, settings.batch_size, seed)
        target = scratch_acc[-1]
        row = {
            "seed": seed, "serving_eval_accuracy": serving_acc[-1], "target": target,
            "scratch_accuracy": scratch_acc, "warm_accuracy": warm_acc, "scratch_loss": scratch_loss, "warm_loss": warm_loss,
            "scratch_epochs_to_target": first_epoch_at(scratch_acc, target),
            "warm_epochs_to_target": first_epoch_at(warm_acc, target),
            "scratch_epoch_s": round(scratch_epoch_s, 2), "warm_epoch_s": round(warm_epoch_s, 2),
        }
        for kind in ("scratch", "warm"):
            epochs = row[f"{kind}_epochs_to_target"]
            row[f"{kind}_seconds_to_target"] = None if epochs is None else round(epochs * row[f"{kind}_epoch_s"], 1)
        runs.append(row)
        print(json.dumps(row), flush=True)

    summary = {
        "date": time.strftime("%Y-%m-%d"), "commit": commit(), "seeds": args.seeds, "epochs": args.epochs,
        "serving_epochs": args.serving_epochs, "images": {part: len(rows) for part, rows in parts.items()},
        "features_seconds": round(features_s, 1), "runs": runs,
    }
    print(f"\nWarm start, {summary['date']}, commit {summary['commit']}, {args.seeds} seeds; "
          f"images {summary['images']}; frozen features {features_s:.0f} s")
    print("| | scratch | warm |\n|---|---|---|")
    print(f"| eval accuracy before training | {spread([r['scratch_accuracy'][0] for r in runs])} | "
          f"{spread([r['warm_accuracy'][0] for r in runs])} |")
    print(f"| epochs to the target | {spread([r['scratch_epochs_to_target'] for r in runs])} | "
          f"{spread([r['warm_epochs_to_target'] for r in runs])} |")
    print(f"| seconds to the target | {spread([r['scratch_seconds_to_target'] for r in runs])} | "
          f"{spread([r['warm_seconds_to_target'] for r in runs])} |")
    print(f"| eval loss before training | {spread([r['scratch_loss'][0] for r in runs])} | "
          f"{spread([r['warm_loss'][0] for r in runs])} |")
    print(f"| eval loss after 1 epoch | {spread([r['scratch_loss'][1] for r in runs])} | "
          f"{spread([r['warm_loss'][1] for r in runs])} |")
    print(f"| eval accuracy after {args.epochs} epochs | {spread([r['scratch_accuracy'][-1] for r in runs])} | "
          f"{spread([r['warm_accuracy'][-1] for r in runs])} |")
    print(f"target (scratch's final eval accuracy) per seed: {[r['target'] for r in runs]}; serving model's (span-1) "
          f"eval accuracy: {[r['serving_eval_accuracy'] for r in runs]}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(summary, handle, indent=2)


if __name__ == "__main__":
    main()
