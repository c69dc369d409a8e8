"""Importing the project changes nothing in the process; the settings come from pipeline/process/startup.py alone."""
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Imports every module of pipeline/ and components/ after the heavy dependencies (whose own import
# may change the process: that is theirs), and prints what the project's imports changed.
PROBE = r"""
import importlib, json, os, pkgutil, sys, warnings
import tensorflow, tf_keras, apache_beam, tfx.components, tensorflow_model_analysis, tensorflow_transform
import PIL.Image
from tensorflow.python.autograph.core import config as autograph_config

def state():
    return {"environ": dict(os.environ), "filters": [repr(f) for f in warnings.filters],
            "unraisablehook": repr(sys.unraisablehook), "excepthook": repr(sys.excepthook),
            "absent_modules": sorted(k for k, v in sys.modules.items() if v is None),
            "autograph_rules": len(autograph_config.CONVERSION_RULES), "pil_max_pixels": PIL.Image.MAX_IMAGE_PIXELS}

before = state()
imported = []
for package in ("components", "pipeline"):
    root = importlib.import_module(package)
    for module in pkgutil.walk_packages(root.__path__, package + "."):
        if module.name.endswith("__main__"):  # runs the command line
            continue
        importlib.import_module(module.name)
        imported.append(module.name)
after = state()
print(json.dumps({"imported": imported, "changed": {k: [before[k], after[k]] for k in before if before[k] != after[k]}}))
"""


def test_importing_every_module_changes_no_environment_variable_warning_filter_hook_or_module_table():
    env = {"PATH": os.environ.get("PATH", ""), "TF_USE_LEGACY_KERAS": "1", "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=REPO, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(found["imported"]) > 80 and "pipeline.cli.main" in found["imported"]
    changed = found["changed"]
    if "environ" in changed:
        before, after = changed.pop("environ")
        changed["environ"] = {k: after.get(k) for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed == {}


def test_the_command_lines_help_answers_without_loading_tensorflow():
    probe = ("import sys\nfrom pipeline.cli.main import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
             "try:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
             "print('tensorflow' in sys.modules, 'tfx' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "usage: transfer-pipeline" in result.stdout and "--comparison-policy" in result.stdout
    assert result.stdout.split()[-2:] == ["False", "False"]
