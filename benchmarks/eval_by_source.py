"""Where a served model's mistakes are: its eval-split accuracy by kind of source and by group.

    python benchmarks/eval_by_source.py --data-dir DIR --config configs/rock-paper-scissors.yaml \
        --model-dir OUTPUT/serving [--model-dir OTHER ...]

The eval split is rebuilt the way the pipeline built it (the config's group pattern, eval fraction,
split seed and stratification), each eval image is sent to the model's serving_images signature
(the same path as `transfer-pipeline predict`), and the answers are counted per source kind (the
naming scheme of the group pattern each file matched: video clips, egohands frames, ...) and per
group (one clip, one session). A figure per kind shows whether an eval accuracy is carried by easy
sources or held back by a few hard ones; several --model-dir compare models on the same images.
--flip-average also scores the mean of each answer and the answer for the image mirrored left to
right (sent as a lossless PNG of the decoded, mirrored pixels): what `test_time_flip` would give a
model exported without it.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import defaultdict

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from pipeline.process.startup import start  # noqa: E402

start()  # the project's process settings, before TensorFlow is imported

import tensorflow as tf  # noqa: E402

from components import constants  # noqa: E402
from components.ingestion.folder_scan import scan_image_folder  # noqa: E402
from components.ingestion.group_split import assign_splits  # noqa: E402
from components.serving_client import predict_files  # noqa: E402
from pipeline.config import build_config  # noqa: E402


def eval_candidates(data_dir: str, config_path: str) -> list:
    config = build_config(config_path, data_dir=data_dir)
    scan = scan_image_folder(data_dir, config.group_pattern, groups_span_classes=config.groups_span_classes)
    split_of = assign_splits(scan.candidates, config.eval_fraction, config.split_seed,
                             by_source_kind=config.stratify_by_source_kind)
    return [c for c in scan.candidates if split_of[c.group] == constants.EVAL_SPLIT]


def mirrored_copies(candidates: list, directory: str) -> list:
    """Each image decoded, mirrored left to right and written as PNG (lossless) into directory."""
    paths = []
    for index, candidate in enumerate(candidates):
        with open(candidate.path, "rb") as handle:
            image = tf.io.decode_image(handle.read(), channels=constants.IMAGE_CHANNELS, expand_animations=False)
        path = os.path.join(directory, f"{index}.png")
        tf.io.write_file(path, tf.io.encode_png(tf.reverse(image, axis=[1])))
        paths.append(path)
    return paths


def answers_of(model_dir: str, paths: list) -> list:
    answers = list(predict_files(model_dir, paths))
    for answer in answers:
        if "error" in answer:
            raise SystemExit(f"{answer['file']}: {answer['error']}")
    return answers


def tally(candidates: list, classes: list) -> dict:
    """{("kind", kind) or ("group", group): [right, total]} and ("all", ""): the whole split, for the class
    answered for each candidate."""
    counts = defaultdict(lambda: [0, 0])
    for candidate, answered in zip(candidates, classes):
        right = int(answered == candidate.class_name)
        for key in (("all", ""), ("kind", candidate.source_kind or "ungrouped"), ("group", candidate.group)):
            counts[key][0] += right
            counts[key][1] += 1
    return counts


def flip_averaged(answers: list, mirrored: list) -> list:
    """The class of the mean probabilities of each answer and the answer for its mirror image."""
    classes = []
    for answer, other in zip(answers, mirrored):
        mean = {name: (p + other["probabilities"][name]) / 2 for name, p in answer["probabilities"].items()}
        classes.append(max(mean, key=mean.get))
    return classes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--config", required=True, help="the config the models were trained with (its split)")
    parser.add_argument("--model-dir", action="append", required=True,
                        help="a serving dir or one version in it; repeat to compare models")
    parser.add_argument("--flip-average", action="store_true",
                        help="also score each model on the mean of its answers for the image and its mirror image")
    args = parser.parse_args()
    candidates = eval_candidates(args.data_dir, args.config)
    print(f"eval split: {len(candidates)} images in {len({c.group for c in candidates})} groups", flush=True)
    names = [os.path.basename(os.path.normpath(m)) for m in args.model_dir]
    originals = [c.path for c in candidates]
    columns, tallies = [], []
    with tempfile.TemporaryDirectory() as directory:
        mirrored = mirrored_copies(candidates, directory) if args.flip_average else []
        for name, model_dir in zip(names, args.model_dir):
            answers = answers_of(model_dir, originals + mirrored)  # the model loaded once for both views
            columns.append(name)
            tallies.append(tally(candidates, [answer["class"] for answer in answers[:len(originals)]]))
            if mirrored:
                columns.append(f"{name} flip-averaged")
                tallies.append(tally(candidates, flip_averaged(answers[:len(originals)], answers[len(originals):])))
    keys = sorted(tallies[0], key=lambda key: ({"all": 0, "kind": 1, "group": 2}[key[0]], key[1]))
    print("\t".join(["", "images"] + columns))
    for key in keys:
        label = "all" if key[0] == "all" else f"{key[0]} {key[1]}"
        total = tallies[0][key][1]
        print("\t".join([label, str(total)] + [f"{t[key][0] / total:.3f} ({t[key][0]})" for t in tallies]))


if __name__ == "__main__":
    main()
