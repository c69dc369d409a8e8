"""pipeline/process/lean_imports.py: TFX's import chain leaves the IRI grammar out (jsonschema still works), and
TFX's component package runs its `__init__` only when a name is taken from it."""
import os
import subprocess
import sys
import types

from pipeline.config import REPO_ROOT

PROBE = """
import sys, time
from pipeline.process.startup import start
start([])
started = time.monotonic()
from tfx.components import InfraValidator  # the package's __init__: the Kubernetes client, then jsonschema
import jsonschema
jsonschema.validate({"name": "rps", "epochs": 3}, {"type": "object", "properties": {"epochs": {"type": "integer"}}})
try:
    jsonschema.validate({"epochs": "3"}, {"properties": {"epochs": {"type": "integer"}}})
    raise SystemExit("jsonschema accepted a string for an integer")
except jsonschema.ValidationError:
    pass
print("jsonschema" in sys.modules, sys.modules.get("rfc3987_syntax", "absent"))
"""


def test_tfx_imports_without_building_the_iri_grammar_and_jsonschema_still_validates():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            env={"TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": ""})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["True", "None"]


def test_a_grammar_already_imported_is_left_alone(monkeypatch):
    from pipeline.process.lean_imports import IRI_GRAMMAR_MODULE, skip_unused_iri_grammar

    marker = object()
    monkeypatch.setitem(sys.modules, IRI_GRAMMAR_MODULE, marker)
    skip_unused_iri_grammar()
    assert sys.modules[IRI_GRAMMAR_MODULE] is marker


# What a Kubeflow pod imports (pipeline/kubeflow/entrypoint.py): TFX's entrypoint, then the executor class of
# the compiled spec's task; every executor class path of kubernetes/pipeline.yaml is imported here.
POD_PROBE = """
import sys
from pipeline.process.startup import start
start([])
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor
from tfx.utils import import_utils
for path in sys.argv[1:]:
    import_utils.import_class_by_path(path)
print("imported", len(sys.argv) - 1, "tuner" in sys.modules["tfx.components"].__dict__,
      "tfx.components.infra_validator.component" in sys.modules)
from tfx.components import Evaluator, Tuner
from tfx.components.evaluator.component import Evaluator as evaluator_class
import tfx.components
print(Evaluator is evaluator_class, "__getattr__" in tfx.components.__dict__, tfx.components.Tuner is Tuner)
try:
    tfx.components.NoSuchComponent
except AttributeError as err:
    print("AttributeError", err)
"""


def _spec_executor_class_paths():
    from pipeline.kubeflow.compiler import read_spec

    spec, _ = read_spec(os.path.join(REPO_ROOT, "kubernetes", "pipeline.yaml"))
    paths = set()
    for executor in spec["deploymentSpec"]["executors"].values():
        args = executor["container"].get("args", [])
        if "--executor_class_path" in args:  # every TFX task (InputFingerprints is the project's own command)
            paths.add(args[args.index("--executor_class_path") + 1])
    return sorted(paths)


def test_a_pod_imports_its_executor_without_every_standard_component_and_the_package_still_works():
    paths = _spec_executor_class_paths()
    assert len(paths) == 12, paths
    result = subprocess.run([sys.executable, "-c", POD_PROBE, *paths], capture_output=True, text=True, cwd=REPO_ROOT,
                            env={"TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": ""})
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert lines[-3] == f"imported {len(paths)} False False"  # no Tuner, no InfraValidator (Kubernetes client)
    assert lines[-2] == "True False True"  # TFX's own classes; the package is TFX's own from then on
    assert lines[-1].startswith("AttributeError") and "NoSuchComponent" in lines[-1]


LOCAL_PROBE = """
import sys
from pipeline.process.startup import start
start([])
from pipeline.config import PipelineConfig
from pipeline.pipeline import create_pipeline
import pipeline.local.runner
create_pipeline(PipelineConfig(data_dir=sys.argv[1], output_dir=sys.argv[2],
                                schema_path="schemas/horse_or_human/schema.pbtxt"))
print("tfx.components.infra_validator.component" in sys.modules, "keras_tuner" in sys.modules)
"""


def test_a_local_run_defines_its_pipeline_without_every_standard_component(tmp_path):
    data = tmp_path / "data"
    for label in ("horses", "humans"):
        (data / label).mkdir(parents=True)
    result = subprocess.run([sys.executable, "-c", LOCAL_PROBE, str(data), str(tmp_path / "out")], capture_output=True,
                            text=True, cwd=REPO_ROOT, env={"TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": ""})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["False", "False"]


def test_a_package_already_imported_is_left_alone(monkeypatch):
    from pipeline.process.lean_imports import DEFERRED_PACKAGE, defer_package_init

    marker = types.ModuleType(DEFERRED_PACKAGE)
    monkeypatch.setitem(sys.modules, DEFERRED_PACKAGE, marker)
    defer_package_init()
    assert sys.modules[DEFERRED_PACKAGE] is marker
