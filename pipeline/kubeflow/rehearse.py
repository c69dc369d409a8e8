"""`transfer-pipeline rehearse-kubeflow` (`make kubeflow-rehearsal`): compile the spec, run it as KFP would, report.

The spec is compiled by the same code as `compile-kubeflow`, for the image built from
this checkout (`make kubeflow-image`), then read back from OUTPUT/pipeline.yaml and
run by pipeline/kubeflow/rehearsal.py. Volumes are folders under OUTPUT: the data
claim holds OUTPUT/volumes/data/images (a copy of the chosen images, synced so
unchanged files keep their inode times), the serving claim is OUTPUT/serving, so a
pushed model lands in OUTPUT/serving/<version>/. Exit 0 only when every task
succeeded (ran or was a cache hit); OUTPUT/report.html and
OUTPUT/rehearsal_summary.json are written either way.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from typing import Dict, List

from pipeline.config import ConfigError

DEFAULT_IMAGE = "localhost/transfer-pipeline:rehearsal"
DEFAULT_OUTPUT = os.path.join("outputs", "kubeflow-rehearsal")
# KFP's default store and the bucket and prefix it keeps pipeline artifacts under.
PIPELINE_ROOT = "minio://mlpipeline/v2/artifacts"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp")


def register(commands) -> None:
    rehearse = commands.add_parser(
        "rehearse-kubeflow", help="run the compiled Kubeflow spec as KFP's backend runs it, each task in a podman container of the image")
    rehearse.add_argument("--data-dir", default=os.environ.get("HORSE_OR_HUMAN_DIR"),
                          help="class folders of images to copy onto the rehearsal's data volume (default $HORSE_OR_HUMAN_DIR)")
    rehearse.add_argument("--output", default=os.environ.get("REHEARSAL_OUT") or DEFAULT_OUTPUT,
                          help=f"rehearsal folder, kept between rehearsals like a KFP install (default $REHEARSAL_OUT or {DEFAULT_OUTPUT})")
    rehearse.add_argument("--image", default=DEFAULT_IMAGE, help=f"image built from this checkout by `make kubeflow-image` (default {DEFAULT_IMAGE})")
    rehearse.add_argument("--config", help="YAML file of pipeline settings, as for `run` and `compile-kubeflow`")
    rehearse.add_argument("--schema", dest="schema_path", help="curated schema.pbtxt of this checkout (default: horse_or_human)")
    rehearse.add_argument("--epochs", type=int, help="training epochs (overrides the config)")
    rehearse.add_argument("--accuracy-threshold", type=float, help="the gate's absolute accuracy bar (overrides the config)")
    rehearse.add_argument("--subjects", type=int, default=0, help="copy only the first N subjects of each class (default: all)")
    rehearse.add_argument("--views", type=int, default=0, help="copy only the first N images of each subject (default: all)")
    rehearse.set_defaults(handler=rehearse_kubeflow)


def chosen_images(data_dir: str, group_pattern: str, subjects: int, views: int) -> List[str]:
    """Relative paths of the images to copy: per class, the first `subjects` subjects and `views` images of each."""
    chosen = []
    for class_name in sorted(os.listdir(data_dir)):
        folder = os.path.join(data_dir, class_name)
        if not os.path.isdir(folder):
            continue
        by_subject: Dict[str, List[str]] = {}
        for name in sorted(os.listdir(folder)):
            if name.lower().endswith(IMAGE_EXTENSIONS):
                match = re.match(group_pattern, os.path.splitext(name)[0])
                by_subject.setdefault(match.group(1) if match else name, []).append(name)
        for subject in sorted(by_subject)[: subjects or None]:
            chosen += [os.path.join(class_name, name) for name in by_subject[subject][: views or None]]
    if not chosen:
        raise ConfigError(f"--data-dir {data_dir}: no images in class folders; give a folder of class sub-folders of images")
    return chosen


def sync_volume(source: str, relative_paths: List[str], volume: str) -> int:
    """Makes `volume` hold exactly these files of `source`; files already there unchanged are left alone
    (a fresh copy would move their ctime, and with it the data fingerprint). Returns how many were copied."""
    wanted = set(relative_paths)
    copied = 0
    for root, _, names in os.walk(volume):
        for name in names:
            path = os.path.join(root, name)
            if os.path.relpath(path, volume) not in wanted:
                os.remove(path)
    for relative in relative_paths:
        src, dst = os.path.join(source, relative), os.path.join(volume, relative)
        if os.path.isfile(dst) and os.stat(dst).st_size == os.stat(src).st_size and int(os.stat(dst).st_mtime) == int(os.stat(src).st_mtime):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)
        copied += 1
    return copied


def rehearse_kubeflow(args) -> int:
    from pipeline.kubeflow import compiler as kfr
    from pipeline.config import build_config, load_yaml
    from pipeline.kubeflow import pod
    from pipeline.kubeflow.kfp_backend import KFP_BACKEND_VERSION
    from pipeline.kubeflow.rehearsal import Rehearsal, RehearsalFailed
    from pipeline.kubeflow.rehearsal_summary import summarize, write_summary
    from pipeline.cli.kubeflow import DEFAULT_SCHEMA

    if not args.data_dir or not os.path.isdir(args.data_dir):
        raise ConfigError(f"--data-dir {args.data_dir or '(unset)'}: give a folder of class sub-folders of images "
                          "(or set HORSE_OR_HUMAN_DIR)")
    if not pod.image_exists(args.image):
        raise ConfigError(f"image {args.image} not found in podman's store; build it from this checkout with `make kubeflow-image`")
    output = os.path.abspath(args.output)
    from_file = load_yaml(args.config) if args.config else {}
    config = build_config(
        args.config,
        data_dir=kfr.DEFAULT_DATA_DIR,
        serving_dir=kfr.SERVING_MOUNT,  # the serving claim's root: versions land in OUTPUT/serving/<version>
        schema_path=args.schema_path or from_file.get("schema_path") or DEFAULT_SCHEMA,
        epochs=args.epochs,
        accuracy_threshold=args.accuracy_threshold,
    )
    target = kfr.KubeflowTarget(image=args.image, pipeline_root=PIPELINE_ROOT)
    started = time.monotonic()
    print(f"rehearsing {config.pipeline_name} as KFP {KFP_BACKEND_VERSION}'s backend runs it, image {args.image}, in {output}",
          flush=True)
    spec_path = os.path.join(output, "pipeline.yaml")
    kfr.write_spec(spec_path, *kfr.compile_spec(config, target))
    spec, platform = kfr.read_spec(spec_path)
    print(f"  compiled {spec_path}: {len(spec['root']['dag']['tasks'])} tasks", flush=True)

    images = chosen_images(args.data_dir, config.group_pattern, args.subjects, args.views)
    data_volume = os.path.join(output, "volumes", "data")
    copied = sync_volume(args.data_dir, images, os.path.join(data_volume, os.path.relpath(kfr.DEFAULT_DATA_DIR, kfr.DATA_MOUNT)))
    print(f"  data volume: {len(images)} images from {args.data_dir} ({copied} copied, the rest unchanged)", flush=True)
    serving_volume = os.path.join(output, "serving")
    os.makedirs(serving_volume, exist_ok=True)
    os.chown(serving_volume, pod.POD_UID, pod.POD_UID)  # as kubernetes/volume-setup.yaml prepares the claim

    rehearsal = Rehearsal(spec, platform, output, {target.data_pvc: data_volume, target.serving_pvc: serving_volume})
    error = None
    try:
        rehearsal.run()
    except RehearsalFailed as err:
        error = str(err)
    summary = summarize(rehearsal, output, images=len(images), seconds=time.monotonic() - started, error=error)
    write_summary(summary, output)
    if error:
        print(f"error: rehearsal failed: {error}")
        return 1
    return 0
