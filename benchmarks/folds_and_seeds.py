"""A recipe's quality with its spread: K group-wise folds x S training seeds, each a whole pipeline run.

    python benchmarks/folds_and_seeds.py --data-dir DIR [--config FILE] [--folds 5] [--seeds 1,2,3] \
        [--work-dir /tmp/folds-and-seeds] [--set key=value ...] [--json results.json]

One eval split is one small sample of subjects (or clips), and one training run one draw of the
seed's randomness (initial weights, shuffling, augmentation); a single figure says nothing of
how much either moves it. This runs `transfer-pipeline run` (fresh output dir, no cache) once per
fold and seed: the config's groups dealt into K folds (`folds`, `eval_fold`: every subject is held
out exactly once over the folds), the config's recipe trained with `seed`. It prints each run as it
ends, then mean, standard deviation and worst case of eval accuracy and of every class's recall
over all runs, and per seed the mean over folds (the seed's effect) and per fold the mean over
seeds (the split's effect). Runs already finished under --work-dir are read back, not run again,
so an interrupted benchmark resumes. The commit measured is printed with the figures.
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
sys.path.insert(0, REPO_ROOT)
from pipeline.run_record.record import RunRecord  # noqa: E402


def commit_measured() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + (" (with uncommitted changes)" if git("status", "--porcelain", "--", "components", "pipeline", "configs") else "")


def run_once(data_dir: str, config: dict, fold: int, seed: int, work_dir: str) -> dict:
    out = os.path.join(work_dir, f"fold{fold}-seed{seed}")
    summary_path = os.path.join(out, "run_summary.json")
    if not os.path.exists(summary_path):
        os.makedirs(out, exist_ok=True)
        started = time.monotonic()
        config_path = os.path.join(out, "config.yaml")
        with open(config_path, "w") as handle:
            yaml.safe_dump(dict(config, eval_fold=fold, seed=seed), handle)
        with open(os.path.join(out, "run.log"), "w") as log:
            subprocess.run([CLI, "run", "--data-dir", data_dir, "--config", config_path, "--output-dir", out,
                            "--no-cache"], check=False, stdout=log, stderr=subprocess.STDOUT)
        with open(os.path.join(out, "wall_seconds"), "w") as handle:
            handle.write(f"{time.monotonic() - started:.0f}")
    summary = RunRecord.read(summary_path)
    if summary.status != "succeeded":
        raise SystemExit(f"fold {fold}, seed {seed}: the run {summary.status}: {summary.error} "
                         f"(log: {out}/run.log; remove {out} to run it again)")
    return {
        "fold": fold,
        "seed": seed,
        "eval_accuracy": summary.model.accuracy,
        "eval_images": sum(values["examples"] for values in summary.model.per_class.values()),
        "recall": {name: values["recall"] for name, values in summary.model.per_class.items()},
        "blessed": summary.gate.blessed,
        "seconds": int(open(os.path.join(out, "wall_seconds")).read()),
    }


def spread(values: list) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"mean {statistics.mean(values):.3f} ± {sd:.3f} (sd), worst {min(values):.3f}, best {max(values):.3f}"


def report(rows: list) -> dict:
    figures = {"runs": len(rows), "eval_accuracy": [row["eval_accuracy"] for row in rows]}
    print(f"\n{len(rows)} runs ({len({r['fold'] for r in rows})} folds x {len({r['seed'] for r in rows})} seeds), "
          f"commit {commit_measured()}")
    print(f"  eval accuracy: {spread(figures['eval_accuracy'])}")
    for name in rows[0]["recall"]:
        values = [row["recall"][name] for row in rows]
        figures[f"recall {name}"] = values
        print(f"  recall {name}: {spread(values)}")
    for key, label in (("seed", "seed"), ("fold", "fold")):
        for value in sorted({row[key] for row in rows}):
            accuracies = [row["eval_accuracy"] for row in rows if row[key] == value]
            print(f"  {label} {value}: eval accuracy mean {statistics.mean(accuracies):.3f} over {len(accuracies)} runs")
    seconds = [row["seconds"] for row in rows]
    print(f"  run time: mean {statistics.mean(seconds):.0f} s, longest {max(seconds)} s")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--config", help="YAML settings of the recipe (default: the pipeline's defaults)")
    parser.add_argument("--folds", type=int, default=5, help="group-wise folds, each held out once (default 5)")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated training seeds (default 1,2,3)")
    parser.add_argument("--work-dir", default="/tmp/folds-and-seeds")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key for every run (YAML value)")
    parser.add_argument("--json", help="also write every run and the figures here")
    args = parser.parse_args()
    config = {}
    if args.config:
        with open(args.config) as handle:
            config = yaml.safe_load(handle) or {}
    for item in args.set:
        key, _, value = item.partition("=")
        config[key] = yaml.safe_load(value)
    config["folds"] = args.folds
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        for fold in range(args.folds):
            print(f"fold {fold}, seed {seed}: running (log: {args.work_dir}/fold{fold}-seed{seed}/run.log)", flush=True)
            rows.append(run_once(args.data_dir, config, fold, seed, args.work_dir))
            row = rows[-1]
            print(f"  eval accuracy {row['eval_accuracy']:.4f} on {row['eval_images']} images, recall "
                  + ", ".join(f"{name} {value:.3f}" for name, value in row["recall"].items())
                  + f", {'blessed' if row['blessed'] else 'not blessed'}, {row['seconds']} s", flush=True)
    figures = report(rows)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"commit": commit_measured(), "config": config, "runs": rows, "figures": figures}, handle, indent=1)


if __name__ == "__main__":
    main()
