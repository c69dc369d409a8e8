"""The project's figures: the pipeline next to a plain Keras script, per component, and as the data grows.

    python benchmarks/pipeline_benchmark.py [--data-dir DIR] [--config FILE] [--epochs 2]
        [--skip-baseline] [--scaling 1000,2000,8000 [--scaling-only]] [--compare-random] [--notebook-baseline]
        [--rehearsal] [--repeat N] [--keep DIR]

1. The plain tf_keras script (benchmarks/plain_keras_baseline.py), then the whole pipeline, one after the
   other, on the same images, split, epochs and head; each in a fresh child process, so wall time and
   the peak RSS of its largest process are its own. Prints both, the ratios, the pipeline's time per
   component and per image, and the seconds of each training epoch on both sides.
2. --scaling N,...: the pipeline again on sets of about N images made from DIR's images re-encoded at
   other sizes and crops (in a temporary folder; each copy keeps its source's group), printing seconds
   per image for each component and the peak memory at each size.
3. --compare-random: the same split and epochs with a randomly initialised frozen base.
4. --rehearsal: the compiled Kubeflow spec on the same images, every task in a container of the image
   (`python -m rehearsal`, needs `make kubeflow-image`), right after the local run; prints the ratio
   rehearsal / local and each task's start, setup, work and teardown.
5. --repeat N: 1 (and 4) N times over, one round after the other, then each ratio's median and range
   over the rounds, and the pipeline's median against the plain script's fastest run (its best): the
   plain script's own spread on this machine is wider than one run's ratio can tell.

Every figure is printed with the date and the commit it was measured on, and the ratios beside the times:
these machines are shared, so a ratio of two runs one after the other says more than either time.

--config takes a settings file's grouping (group_pattern, groups_span_classes, stratify_by_source_kind,
eval_fraction) only, so every run trains with the defaults. Figures only; nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from typing import List, Optional

import yaml
from PIL import Image

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)
from pipeline.run_record.record import RunRecord  # noqa: E402
GROUPING_KEYS = ("group_pattern", "groups_span_classes", "stratify_by_source_kind", "eval_fraction")
# Re-encoded copies for the scaling sets: (scale, crop box as fractions of width and height).
VARIANTS = [(1.0, (0, 0, 1, 1)), (0.7, (0, 0, 1, 1)), (1.4, (0, 0, 1, 1)), (1.0, (0.05, 0.05, 0.95, 0.95)),
            (0.85, (0.1, 0, 1, 0.9)), (1.2, (0, 0.1, 0.9, 1)), (0.6, (0.08, 0.08, 0.92, 0.92)), (1.0, (0.15, 0.15, 1, 1)),
            (1.6, (0, 0, 0.85, 0.85))]


def measure(command, log_path):
    """Runs command to the end; returns (exit code, wall seconds, peak RSS in MB of its largest process)."""
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
    started = time.monotonic()
    with open(log_path, "w") as log:
        child = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)  # its own usage, including its reaped children
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, time.monotonic() - started, usage.ru_maxrss / 1024


def check(code, log_path, what):
    if code != 0:
        with open(log_path) as handle:
            tail = handle.read()[-3000:]
        raise SystemExit(f"{what} failed with exit code {code}; the end of {log_path}:\n{tail}")


def epoch_seconds(log_path):
    """The Keras progress lines' seconds per epoch ('23/23 - 98s - loss: ...'), in order."""
    with open(log_path) as handle:
        return [int(s) for s in re.findall(r"^\s*\d+/\d+ - (\d+)s - loss", handle.read(), re.M)]


def run_pipeline(data_dir, output_dir, flags, log_path):
    command = [sys.executable, "-m", "pipeline", "run", "--data-dir", data_dir, "--output-dir", output_dir, *flags]
    code, seconds, peak = measure(command, log_path)
    check(code, log_path, "the pipeline")
    return RunRecord.read(os.path.join(output_dir, "run_summary.json")), seconds, peak


def run_plain(data_dir, epochs, settings_file, log_path, autograph_rules="project"):
    command = [sys.executable, os.path.join(REPO_ROOT, "benchmarks", "plain_keras_baseline.py"),
               "--data-dir", data_dir, "--epochs", str(epochs), "--autograph-rules", autograph_rules] + (
                   ["--config", settings_file] if settings_file else [])
    code, seconds, peak = measure(command, log_path)
    check(code, log_path, "the plain Keras script")
    with open(log_path) as handle:
        figures = json.loads([line for line in handle if line.startswith("{")][-1])
    return figures, seconds, peak


def provenance():
    """'<UTC date and time>, commit <sha>' (with '+changes' when the checkout differs from it)."""
    def git(*args):
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = "+changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    return f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}{changed}"


def drift_share(summary, seconds):
    """What the drift gate added to the run (its seconds less those it ran beside another component)
    against the run's seconds (issue target: under 10%)."""
    row = next((r for r in summary.components if r.component == "DriftGate"), None)
    drift = summary.drift
    if row is None or row.state != "ran" or drift is None or drift.added_seconds is None:
        return "drift checks: the DriftGate did not run"
    added, own = drift.added_seconds, drift.seconds if drift.seconds is not None else row.seconds
    beside = f" ({own - added:.1f} s of its {own:.1f} s beside other components)" if added < own else ""
    return f"drift checks: added {added:.1f} s to the run's {seconds:.0f} s{beside} ({100 * added / seconds:.0f}%; target < 10%)"


def run_rehearsal(data_dir, output, flags, log_path):
    """`python -m rehearsal FLAGS` on data_dir into output: (its RehearsalRecord, wall seconds)."""
    from rehearsal.summary import SUMMARY_FILE, RehearsalRecord

    code, seconds, _ = measure([sys.executable, "-m", "rehearsal", "--data-dir", data_dir, "--output", output, *flags],
                               log_path)
    check(code, log_path, "the rehearsal")
    return RehearsalRecord.read(os.path.join(output, SUMMARY_FILE)), seconds


def compare_with_rehearsal(args, scratch, common_flags, local_seconds):
    """The same images, epochs and settings file as the local run, rehearsed as KFP runs the spec; returns
    its wall seconds."""
    record, seconds = run_rehearsal(args.data_dir, os.path.join(scratch, "rehearsal"), common_flags,
                                    os.path.join(scratch, "rehearsal.log"))
    print(f"\nrehearsal (every task in a container of the image, as KFP {record.kfp_backend}): {seconds:.0f} s wall; "
          f"ratio rehearsal / local {seconds / local_seconds:.2f}x (goal <= 2.0x) [{provenance()}]")
    print(f"  {'task':<24} {'state':<7} {'started':>8} {'seconds':>8} {'setup':>6} {'work':>6} {'teardown':>8} {'launcher':>8}")
    for task in record.tasks:  # started: seconds after the run's start (independent tasks overlap, as on Argo)
        split = [task.setup_seconds, task.work_seconds, task.teardown_seconds, task.launcher_seconds]
        cells = "".join(f"{value:>{width}.1f}" if value is not None else " " * width
                        for value, width in zip(split, (7, 7, 9, 9)))
        started = f"{task.started_after:>8.1f}" if task.started_after is not None else " " * 8
        print(f"  {task.name:<24} {task.state:<7} {started} {task.seconds:>8.1f}{cells}")
    return seconds


def image_count(summary):
    return sum(sum(counts.values()) for counts in summary.data.examples.values())


def print_components(summary, images):
    print(f"  {'component':<24} {'state':<7} {'seconds':>8} {'ms/image':>9}")
    for row in summary.components:
        print(f"  {row.component:<24} {row.state:<7} {row.seconds:>8.1f} {1000 * row.seconds / images:>9.1f}")


def accuracy_of(summary):
    return summary.model.accuracy


def grouping_settings(config_path, folder):
    """A settings file with only the grouping of config_path (None without one)."""
    if not config_path:
        return None
    with open(config_path) as handle:
        values = yaml.safe_load(handle) or {}
    path = os.path.join(folder, "grouping.yaml")
    with open(path, "w") as handle:
        yaml.safe_dump({k: values[k] for k in GROUPING_KEYS if k in values}, handle)
    return path


def make_scaled_set(data_dir, target, folder):
    """About `target` images: every source image re-encoded as JPEG in as many variants as needed."""
    from pipeline.config import DEFAULT_GROUP_PATTERN  # first: `pipeline` quiets TensorFlow before it loads
    from components.ingestion.folder_scan import scan_image_folder

    sources = scan_image_folder(data_dir, DEFAULT_GROUP_PATTERN).candidates
    written = 0
    for variant in range(len(VARIANTS)):
        for candidate in sources:
            if written >= target:
                return written
            scale, (left, top, right, bottom) = VARIANTS[variant]
            with Image.open(candidate.path) as image:
                image = image.convert("RGB")
                width, height = image.size
                image = image.crop((int(left * width), int(top * height), int(right * width), int(bottom * height)))
                image = image.resize((max(16, int(image.width * scale)), max(16, int(image.height * scale))))
                stem = os.path.splitext(os.path.basename(candidate.path))[0]
                target_dir = os.path.join(folder, candidate.class_name)
                os.makedirs(target_dir, exist_ok=True)
                # Digits appended to the stem keep the source's group under the grouping patterns.
                image.save(os.path.join(target_dir, f"{stem}{variant:02d}.jpg"), "JPEG", quality=90)
            written += 1
    return written


@dataclasses.dataclass
class Round:
    """One round's wall seconds and peak RSS (MB): the pipeline's, the plain script's, the rehearsal's."""

    seconds: float
    peak: float
    plain_seconds: Optional[float] = None
    plain_peak: Optional[float] = None
    rehearsal_seconds: Optional[float] = None


def spread(values) -> str:
    """'median (min to max)' of ratios."""
    return f"{statistics.median(values):.2f}x ({min(values):.2f}x to {max(values):.2f}x)"


def print_rounds(rounds: List[Round]) -> None:
    """Each ratio's median and range over the rounds, and the pipeline against the plain script's best."""
    print(f"\nover {len(rounds)} rounds [{provenance()}]")
    print("  pipeline wall: " + ", ".join(f"{r.seconds:.0f}" for r in rounds) + " s")
    if all(r.plain_seconds for r in rounds):
        print("  plain script wall: " + ", ".join(f"{r.plain_seconds:.0f}" for r in rounds) + " s")
        print(f"  ratio pipeline / plain, each round: wall {spread([r.seconds / r.plain_seconds for r in rounds])}, "
              f"peak RSS {spread([r.peak / r.plain_peak for r in rounds])} (goals <= 1.0x, <= 1.15x)")
        best = min(r.plain_seconds for r in rounds)
        median = statistics.median(r.seconds for r in rounds)
        print(f"  the pipeline's median against the plain script's fastest run: {median:.0f} / {best:.0f} s = "
              f"{median / best:.2f}x")
    if all(r.rehearsal_seconds for r in rounds):
        print(f"  ratio rehearsal / local, each round: {spread([r.rehearsal_seconds / r.seconds for r in rounds])} "
              "(goal <= 2.0x)")


def compare_with_plain(args, scratch, settings_file, common_flags):
    """The plain script (unless --skip-baseline), then the pipeline, on the data set itself. Returns a Round
    (the plain script's figures None with --skip-baseline)."""
    plain_seconds = plain_peak = None
    if not args.skip_baseline:
        plain, plain_seconds, plain_peak = run_plain(args.data_dir, args.epochs, settings_file,
                                                     os.path.join(scratch, "plain.log"))
        print(f"plain Keras script: {plain_seconds:.0f} s wall, peak RSS {plain_peak:.0f} MB, eval accuracy "
              f"{plain['eval_accuracy']} ({plain['train_images']} train / {plain['eval_images']} eval images), "
              f"epochs {plain['epoch_seconds']} s", flush=True)
        if args.notebook_baseline:
            notebook, notebook_seconds, notebook_peak = run_plain(
                args.data_dir, args.epochs, settings_file, os.path.join(scratch, "plain-notebook.log"), "tensorflow")
            print(f"plain Keras script with TensorFlow's own AutoGraph rules (a notebook): {notebook_seconds:.0f} s "
                  f"wall, peak RSS {notebook_peak:.0f} MB, eval accuracy {notebook['eval_accuracy']}, epochs "
                  f"{notebook['epoch_seconds']} s", flush=True)
    log = os.path.join(scratch, "pipeline.log")
    summary, seconds, peak = run_pipeline(args.data_dir, os.path.join(scratch, "run"), common_flags, log)
    print(f"pipeline: {seconds:.0f} s wall, peak RSS {peak:.0f} MB, eval accuracy {accuracy_of(summary)}, "
          f"epochs {epoch_seconds(log)} s; blessed {summary.gate.blessed}")
    if not args.skip_baseline:
        print(f"ratio pipeline / plain (the best hand-written script): wall {seconds / plain_seconds:.2f}x "
              f"(goal <= 1.0x), peak RSS {peak / plain_peak:.2f}x (goal <= 1.15x) [{provenance()}]")
        if args.notebook_baseline:
            print(f"ratio pipeline / notebook: wall {seconds / notebook_seconds:.2f}x, "
                  f"peak RSS {peak / notebook_peak:.2f}x [{provenance()}]")
    print(drift_share(summary, seconds))
    print_components(summary, image_count(summary))
    return Round(seconds, peak, plain_seconds, plain_peak)


def scaling(args, scratch, settings_file, common_flags):
    rows = []
    for target in [int(n) for n in args.scaling.split(",")]:
        folder = os.path.join(scratch, f"scaled-{target}")
        written = make_scaled_set(args.data_dir, target, folder)
        summary, seconds, peak = run_pipeline(folder, os.path.join(scratch, f"run-{target}"), common_flags,
                                              os.path.join(scratch, f"pipeline-{target}.log"))
        rows.append((written, summary, seconds, peak))
        print(f"\n{written} images: {seconds:.0f} s wall ({1000 * seconds / written:.0f} ms/image), peak RSS {peak:.0f} MB",
              flush=True)
        print_components(summary, written)
    names = [row.component for row in rows[0][1].components]
    print("\nms per image by data size\n  " + f"{'component':<24}" + "".join(f"{n:>9}" for n, *_ in rows))
    for name in names:
        cells = []
        for written, summary, _, _ in rows:
            seconds = next((r.seconds for r in summary.components if r.component == name), 0.0)
            cells.append(f"{1000 * seconds / written:>9.1f}")
        print(f"  {name:<24}" + "".join(cells))
    print(f"  {'peak RSS (MB)':<24}" + "".join(f"{peak:>9.0f}" for *_, peak in rows))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("DATA_DIR") or os.environ.get("HORSE_OR_HUMAN_DIR")
    parser.add_argument("--data-dir", default=default_data, required=not default_data,
                        help="class folders of images (default: $DATA_DIR, else $HORSE_OR_HUMAN_DIR)")
    parser.add_argument("--config", help="a settings file whose grouping applies (e.g. configs/rock-paper-scissors.yaml)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--skip-baseline", action="store_true", help="the pipeline alone, no plain-script comparison")
    parser.add_argument("--scaling", help="comma-separated image counts, e.g. 1000,2000,8000")
    parser.add_argument("--scaling-only", action="store_true", help="with --scaling: only the scaling runs")
    parser.add_argument("--compare-random", action="store_true")
    parser.add_argument("--notebook-baseline", action="store_true",
                        help="also run the plain script with TensorFlow's own AutoGraph rules, as a notebook does")
    parser.add_argument("--rehearsal", action="store_true",
                        help="after the local run, rehearse the Kubeflow spec on the same images (needs `make kubeflow-image`)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of plain script, pipeline (and rehearsal), one after the other (default 1)")
    parser.add_argument("--keep", help="keep logs and outputs in this folder instead of a temporary one")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    with tempfile.TemporaryDirectory(prefix="transfer-benchmark-") as temporary:
        scratch = args.keep or temporary
        os.makedirs(scratch, exist_ok=True)
        settings_file = grouping_settings(args.config, scratch)
        common_flags = ["--epochs", str(args.epochs)] + (["--config", settings_file] if settings_file else [])
        print(f"data: {args.data_dir}; {args.epochs} epoch(s); {os.cpu_count()} CPUs; logs in {scratch}", flush=True)
        print(f"measured {provenance()}", flush=True)
        if not args.scaling_only:
            rounds = []
            for number in range(1, args.repeat + 1):
                if args.repeat > 1:
                    print(f"\nround {number} of {args.repeat}", flush=True)
                # A round's own folder: a pipeline run into an earlier round's output would reuse its cache.
                folder = scratch if args.repeat == 1 else os.path.join(scratch, f"round-{number}")
                os.makedirs(folder, exist_ok=True)
                rounds.append(compare_with_plain(args, folder, settings_file, common_flags))
                if args.rehearsal:
                    rounds[-1].rehearsal_seconds = compare_with_rehearsal(args, folder, common_flags, rounds[-1].seconds)
            if args.repeat > 1:
                print_rounds(rounds)
        if args.scaling:
            scaling(args, scratch, settings_file, common_flags)
        if args.compare_random:
            summary, seconds, peak = run_pipeline(
                args.data_dir, os.path.join(scratch, "run"), common_flags + ["--weights", "none", "--serving-dir",
                                                                            os.path.join(scratch, "serving-random")],
                os.path.join(scratch, "random.log"))
            print(f"\nrandom frozen base, same split: {seconds:.0f} s wall, eval accuracy {accuracy_of(summary)}, "
                  f"blessed {summary.gate.blessed}")


if __name__ == "__main__":
    main()
