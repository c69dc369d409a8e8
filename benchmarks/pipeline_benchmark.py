"""Prints the figures the project tracks: time per component, peak memory, accuracy.

    python benchmarks/pipeline_benchmark.py [--data-dir DIR] [--epochs N] [--compare-random]

Runs the real pipeline in a fresh output directory (a child process, so its
peak memory can be measured), then, with --compare-random, trains once more
on the same split with a randomly initialised frozen base: the reason
transfer learning exists. Figures only; nothing here asserts a speed.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(data_dir, output_dir, *flags):
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2", PYTHONWARNINGS="ignore")
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    command = [sys.executable, "-m", "pipeline", "run", "--output-dir", output_dir, *flags]
    if data_dir:
        command += ["--data-dir", data_dir]
    subprocess.run(command, cwd=REPO_ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(os.path.join(output_dir, "run_summary.json")) as handle:
        summary = json.load(handle)
    return summary, time.monotonic() - started, max(peak_kb, before) / 1024


def report(title, summary, seconds, peak_mb):
    print(f"\n{title}: {seconds:.0f} s wall, peak RSS of the largest process {peak_mb:.0f} MB")
    for row in summary["components"]:
        print(f"  {row['component']:<24} {row['state']:<7} {row['seconds']:>7.1f} s")
    for model, slices in summary.get("metrics", {}).items():
        overall = slices.get("overall", {})
        print(f"  {model}: eval accuracy {overall.get('accuracy')}")
    print(f"  blessed: {summary.get('blessed')}, pushed: {summary.get('pushed')}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("HORSE_OR_HUMAN_DIR"))
    parser.add_argument("--epochs", default="2")
    parser.add_argument("--compare-random", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="transfer-benchmark-") as output:
        summary, seconds, peak = run(args.data_dir, output, "--epochs", args.epochs)
        report(f"pretrained InceptionV3, {args.epochs} epoch(s)", summary, seconds, peak)
        if args.compare_random:
            summary, seconds, peak = run(
                args.data_dir, output, "--epochs", args.epochs, "--weights", "none",
                "--serving-dir", os.path.join(output, "serving-random"),
            )
            report(f"random frozen base, {args.epochs} epoch(s), same split", summary, seconds, peak)


if __name__ == "__main__":
    main()
