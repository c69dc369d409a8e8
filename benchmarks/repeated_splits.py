"""A config's accuracy on unseen groups, over several train/eval splits instead of one.

    python benchmarks/repeated_splits.py --data-dir DIR --config configs/rock-paper-scissors.yaml \
        --split-seeds a,b,c [--work-dir /tmp/splits] [--set key=value ...]

One eval split of whole clips is a small sample of clips: on rock-paper-scissors it holds two of the
eight video clips, and which two moves its accuracy by more than most recipe changes. This runs the
whole pipeline (`transfer-pipeline run`, fresh output dir, no cache) once per split seed, each seed
drawing another split of whole groups the way the pipeline draws every split (the config's group
pattern, eval fraction and stratification), and prints each run's eval accuracy, per-class recall
and eval groups per source kind, then the mean and spread. The recipe is never chosen on these
splits; they only measure it. --set overrides a config key for every run (e.g. --set seed=7).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(os.path.dirname(sys.executable), "transfer-pipeline")


def run_split(data_dir: str, config: dict, seed: str, work_dir: str) -> dict:
    out = os.path.join(work_dir, f"split-{seed}")
    os.makedirs(out, exist_ok=True)
    config_path = os.path.join(out, "config.yaml")
    with open(config_path, "w") as handle:
        yaml.safe_dump(dict(config, split_seed=seed), handle)
    started = time.monotonic()
    with open(os.path.join(out, "run.log"), "w") as log:
        subprocess.run([CLI, "run", "--data-dir", data_dir, "--config", config_path, "--output-dir", out, "--no-cache"],
                       check=False, stdout=log, stderr=subprocess.STDOUT)
    with open(os.path.join(out, "run_summary.json")) as handle:
        summary = json.load(handle)
    if summary["status"] != "succeeded":
        raise SystemExit(f"split {seed}: the run {summary['status']}: {summary.get('error')} (log: {out}/run.log)")
    return {
        "split_seed": seed,
        "eval_accuracy": round(summary["metrics"]["candidate"]["overall"]["accuracy"], 4),
        "recall": {name: round(values["recall"], 3) for name, values in summary["per_class"].items()},
        "confusion": summary["confusion_matrix"]["counts"],
        "eval_images_per_source_kind": summary["images_per_source_kind"]["eval"],
        "blessed": summary["blessed"],
        "seconds": round(time.monotonic() - started),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--split-seeds", required=True, help="comma-separated; each draws one train/eval split")
    parser.add_argument("--work-dir", default="/tmp/repeated-splits")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key for every run (YAML value)")
    args = parser.parse_args()
    with open(args.config) as handle:
        config = yaml.safe_load(handle)
    for item in args.set:
        key, _, value = item.partition("=")
        config[key] = yaml.safe_load(value)
    rows = []
    for seed in args.split_seeds.split(","):
        print(f"split {seed}: running (log: {args.work_dir}/split-{seed}/run.log)", flush=True)
        rows.append(run_split(args.data_dir, config, seed, args.work_dir))
        print(json.dumps(rows[-1]), flush=True)
    accuracies = [row["eval_accuracy"] for row in rows]
    spread = f" +- {statistics.stdev(accuracies):.3f} (sd)" if len(rows) > 1 else ""
    print(f"eval accuracy over {len(rows)} splits: mean {statistics.mean(accuracies):.3f}{spread}, "
          f"min {min(accuracies):.3f}, max {max(accuracies):.3f}")
    for name in rows[0]["recall"]:
        print(f"  recall {name}: " + ", ".join(f"{row['recall'][name]:.3f}" for row in rows))


if __name__ == "__main__":
    main()
