"""`make kubeflow-rehearsal` (`python -m rehearsal`): compile the spec users get, run it as KFP's backend would, report.

The spec is written by `transfer-pipeline compile-kubeflow` itself, for the image built from
this checkout (`make kubeflow-image`), then read back from OUTPUT/pipeline.yaml and run by
rehearsal/run.py as `transfer-pipeline submit` submits it: the spec's root sent as the run's
pipeline_root, resolved in KFP's order, and --span/--window-spans/--accept-drift --reason sent as its
run parameters, as `submit` sends them. Volumes are folders under OUTPUT: the data claim
holds OUTPUT/volumes/data/images (a copy of the chosen images, synced so unchanged files
keep their inode times), the serving claim is OUTPUT/serving, so a pushed model lands in
OUTPUT/serving/transfer-classifier/<version>/. Exit 0 only when every task succeeded (ran
or was a cache hit); 1 when a task failed (the summary names it, its exit status and its
log's last lines); 2 for a setting to fix. OUTPUT/rehearsal_summary.json is written either
way, OUTPUT/report.html when the run wrote its report.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Dict, List, Optional

import yaml

from pipeline.config import ConfigError
from rehearsal.driver import DEFAULT_PIPELINE_ROOT, KFP_BACKEND_VERSION, KFP_BACKEND_VERSIONS

DEFAULT_IMAGE = "localhost/transfer-pipeline:rehearsal"
DEFAULT_OUTPUT = os.path.join("outputs", "kubeflow-rehearsal")
# Settings that name places on this machine: the spec takes the cluster's (compile-kubeflow's defaults).
LOCAL_PATH_SETTINGS = ("data_dir", "serving_dir", "output_dir", "weights_cache_dir")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rehearsal",
        description="Run the compiled Kubeflow spec as KFP's backend runs it, each task in a podman container of the image.")
    parser.add_argument("--data-dir", help="class folders of images to put on the data volume (default: $HORSE_OR_HUMAN_DIR, "
                        "else what `transfer-pipeline run` takes: the cached or downloaded horse-or-human set)")
    parser.add_argument("--output", default=os.environ.get("REHEARSAL_OUT") or DEFAULT_OUTPUT,
                        help=f"rehearsal folder, kept between rehearsals like a KFP install (default $REHEARSAL_OUT or {DEFAULT_OUTPUT})")
    parser.add_argument("--image", default=DEFAULT_IMAGE, help=f"image built from this checkout by `make kubeflow-image` "
                        f"(default {DEFAULT_IMAGE}); the spec names it by its digest")
    parser.add_argument("--config", help="YAML file of pipeline settings, as for `run` and `compile-kubeflow`")
    parser.add_argument("--schema", dest="schema_path", help="curated schema.pbtxt of this checkout (default: horse_or_human)")
    parser.add_argument("--epochs", type=int, help="training epochs (overrides the config)")
    parser.add_argument("--accuracy-threshold", type=float, help="the gate's absolute accuracy bar (overrides the config)")
    parser.add_argument("--subjects", type=int, default=0, help="copy only the first N groups (subjects, clips) of each class (default: all)")
    parser.add_argument("--views", type=int, default=0, help="copy only the first N images of each group (default: all)")
    parser.add_argument("--pipeline-root", default=DEFAULT_PIPELINE_ROOT,
                        help=f"compile with this root; `submit` sends it as the run's pipeline_root (default {DEFAULT_PIPELINE_ROOT})")
    parser.add_argument("--no-publish-logs", dest="publish_logs", action="store_false",
                        help="rehearse an install whose driver runs with PUBLISH_LOGS=false (default: published, as a stock install)")
    parser.add_argument("--kfp-version", choices=KFP_BACKEND_VERSIONS, default=KFP_BACKEND_VERSION,
                        help=f"the KFP backend release to behave as (default {KFP_BACKEND_VERSION}, the newest read; "
                        "kubernetes/README.md lists what differs)")
    parser.add_argument("--span", help="the run's span parameter, as `transfer-pipeline submit --span` sends it: the newest span "
                        "of the window, for a backfill (default: the spec's, the newest span present)")
    parser.add_argument("--window-spans", type=int, help="the run's window_spans parameter, as `submit --window-spans` "
                        "sends it (default: the spec's)")
    parser.add_argument("--accept-drift", action="store_true", help="let the run train on a span the drift gate stops, "
                        "as `submit --accept-drift` does: the run's accept_drift_reason parameter; needs --reason")
    parser.add_argument("--reason", help="why drift is accepted (with --accept-drift), recorded in the drift report")
    parser.add_argument("--memory-limit", action="append", default=[], metavar="TASK=GB",
                        help="a task's memory limit in G, as an edited spec or a LimitRange sets it (repeatable)")
    return parser


def memory_limits(values: List[str]) -> Dict[str, float]:
    limits = {}
    for value in values:
        task, _, amount = value.partition("=")
        try:
            limits[task] = float(amount)
        except ValueError:
            raise ConfigError(f"--memory-limit {value}: give TASK=GB, e.g. Trainer=0.5") from None
    return limits


def rehearsal_config(path: str, args) -> str:
    """The settings file compile-kubeflow gets: the user's file without this machine's paths, plus the flags."""
    from pipeline.config import load_yaml

    settings = {k: v for k, v in (load_yaml(args.config) if args.config else {}).items() if k not in LOCAL_PATH_SETTINGS}
    for key, value in (("epochs", args.epochs), ("accuracy_threshold", args.accuracy_threshold)):
        if value is not None:
            settings[key] = value
    with open(path, "w") as handle:
        yaml.safe_dump(settings, handle, sort_keys=True)
    return path


def compile_users_spec(spec_path: str, config_path: str, args) -> None:
    """What a user runs: `transfer-pipeline compile-kubeflow` with the checkout's schema and the image."""
    from pipeline.cli.main import main as transfer_pipeline

    schema = ["--schema", args.schema_path] if args.schema_path else []  # else compile-kubeflow's default
    code = transfer_pipeline(["compile-kubeflow", "--output", spec_path, "--image", args.image, "--pipeline-root",
                              args.pipeline_root, "--config", config_path, *schema])
    if code != 0:
        raise ConfigError(f"compile-kubeflow exited with {code}; see above")


def rehearse(args) -> int:
    from pipeline.config import PipelineConfig
    from pipeline.kubeflow import compiler
    from rehearsal import pod
    from rehearsal.data import chosen_images, find_data, sync_volume
    from rehearsal.driver import RELEASES
    from rehearsal.run import Rehearsal, RehearsalFailed, RunSettings
    from rehearsal.summary import REPORT_FILE, summarize, write_summary

    if not pod.image_exists(args.image):
        raise ConfigError(f"image {args.image} not found in podman's store; build it from this checkout with `make kubeflow-image`")
    limits = memory_limits(args.memory_limit)
    # By digest, as `make kubeflow-image` advises: the cache key then changes with every rebuilt image.
    args.image = pod.image_by_digest(args.image)
    output = os.path.abspath(args.output)
    os.makedirs(output, exist_ok=True)
    data_dir, found = find_data(args.data_dir, output, print)
    if not os.path.isdir(data_dir):
        raise ConfigError(f"--data-dir {data_dir}: no such folder; give a folder of class sub-folders of images")
    started = time.monotonic()
    print(f"rehearsing as KFP {args.kfp_version}'s backend runs a spec, image {args.image}, in {output}", flush=True)
    spec_path = os.path.join(output, "pipeline.yaml")
    compile_users_spec(spec_path, rehearsal_config(os.path.join(output, "rehearsal-settings.yaml"), args), args)
    spec, platform = compiler.read_spec(spec_path)
    settings = compiler.spec_settings(spec_path, spec)
    config = PipelineConfig(**settings["config"])
    for task, limit in limits.items():
        if task not in spec["root"]["dag"]["tasks"]:
            raise ConfigError(f"--memory-limit {task}={limit:g}: the spec has no task {task!r} "
                              f"(its tasks: {', '.join(sorted(spec['root']['dag']['tasks']))})")
        label = spec["components"][spec["root"]["dag"]["tasks"][task]["componentRef"]["name"]]["executorLabel"]
        spec["deploymentSpec"]["executors"][label]["container"]["resources"]["memoryLimit"] = limit
        print(f"  {task}: memory limit {limit:g} G (--memory-limit)", flush=True)

    images = chosen_images(data_dir, config.group_pattern, args.subjects, args.views, config.groups_span_classes)
    data_volume = os.path.join(output, "volumes", "data")
    copied = sync_volume(data_dir, images, os.path.join(data_volume, os.path.relpath(config.data_dir, compiler.DATA_MOUNT)))
    print(f"  data volume: {len(images)} images of {data_dir} ({found}; {copied} copied, the rest unchanged)", flush=True)
    serving_volume = os.path.join(output, "serving")
    os.makedirs(serving_volume, exist_ok=True)
    os.chown(serving_volume, pod.POD_UID, pod.POD_UID)  # as kubernetes/volume-setup.yaml prepares the claim
    if os.path.exists(os.path.join(output, REPORT_FILE)):
        os.remove(os.path.join(output, REPORT_FILE))  # an earlier run's page must not pass for this run's

    from pipeline.kubeflow.submit import run_parameters

    parameters = run_parameters(spec_path, spec, span=args.span, window_spans=args.window_spans,
                                accept_drift=args.accept_drift, reason=args.reason)
    if parameters:
        print(f"  run parameters: {', '.join(f'{k}={v!r}' for k, v in sorted(parameters.items()))}", flush=True)
    target = settings["target"]
    run_settings = RunSettings(claims={target["data_pvc"]: data_volume, target["serving_pvc"]: serving_volume},
                               pipeline_root=spec["defaultPipelineRoot"],  # what `submit` sends
                               publish_logs=args.publish_logs, release=RELEASES[args.kfp_version], parameters=parameters)
    rehearsal = Rehearsal(spec, platform, output, run_settings)
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


def main(argv: Optional[List[str]] = None) -> int:
    from pipeline.process.startup import start

    args = build_parser().parse_args(argv)
    start(sys.argv[1:] if argv is None else argv)
    from components.ingestion.folder_scan import DataError
    from rehearsal.object_store import ObjectStoreError

    try:
        return rehearse(args)
    except (ConfigError, DataError, ObjectStoreError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
