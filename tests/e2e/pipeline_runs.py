"""What the end-to-end tests share: starting the command line, reading what a run left behind.

Imported by the test files of this folder (pytest puts it on sys.path); fixtures live in conftest.py.
"""
import os
import shutil
import subprocess
import sys

from pipeline.run_record.record import RunRecord

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONSOLE_SCRIPT = os.path.join(os.path.dirname(sys.executable), "transfer-pipeline")
# `python -m pipeline` as make starts it: Keras 2 and quiet through the environment.
MODULE_ENV = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2", PYTHONWARNINGS="ignore")
# What a user's shell has when they start the console script straight from the venv (no make).
BARE_ENV = {k: v for k, v in os.environ.items() if k not in ("TF_USE_LEGACY_KERAS", "TF_CPP_MIN_LOG_LEVEL", "PYTHONWARNINGS")}


def run_cli(*args, console_script=False, env=None, check=False):
    """`python -m pipeline ARGS` (or, console_script=True, the installed script in a bare environment)."""
    command = [CONSOLE_SCRIPT] if console_script else [sys.executable, "-m", "pipeline"]
    base = BARE_ENV if console_script else MODULE_ENV
    result = subprocess.run([*command, *args], cwd=REPO_ROOT, env={**base, **(env or {})}, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"transfer-pipeline {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result


def summary_of(output_dir):
    """The run record the run left in output_dir."""
    return RunRecord.read(os.path.join(output_dir, "run_summary.json"))


def run_pipeline(data_dir, output_dir, *flags, **how):
    """(the run record, the finished process) of `run` on data_dir into output_dir."""
    result = run_cli("run", "--data-dir", str(data_dir), "--output-dir", str(output_dir), *flags, **how)
    return summary_of(output_dir), result


def versions(serving_dir):
    """The numbered version folders of a serving dir, oldest first ([] when there is none)."""
    return sorted(d for d in os.listdir(serving_dir) if d.isdigit()) if os.path.isdir(serving_dir) else []


def states(summary):
    """{component: ran | cached | ...} of a local run's summary."""
    return {row.component: row.state for row in summary.components}


def add_horse_or_human_span(data_dir, span, horse_or_human_dir, subjects, views):
    """data_dir/span/<class>/ with the given views of each subject ({class: [subject]}) of horse-or-human,
    which numbers horse views -0.. and human views -00.. ."""
    for class_name, names in subjects.items():
        (data_dir / span / class_name).mkdir(parents=True)
        for subject in names:
            for view in views:
                name = f"{subject}-{view}.png" if class_name == "horses" else f"{subject}-{view:02d}.png"
                shutil.copy2(horse_or_human_dir / class_name / name, data_dir / span / class_name / name)


def add_hands_as(data_dir, span, rock_paper_scissors_dir, gestures):
    """data_dir/span/<class>/: six frames of a rock-paper-scissors gesture per class ({class: gesture}), named
    as three subjects of two views each, so that they split by subject: a span of another distribution."""
    for class_name, gesture in gestures.items():
        (data_dir / span / class_name).mkdir(parents=True)
        for i, frame in enumerate(sorted((rock_paper_scissors_dir / gesture).iterdir())[:6]):
            shutil.copy2(frame, data_dir / span / class_name / f"{gesture}{i // 2 + 1:02d}-{i % 2}.jpg")
