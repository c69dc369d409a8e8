"""pipeline/process/lean_imports.py: TFX's import chain leaves the IRI grammar out; jsonschema still works."""
import subprocess
import sys

PROBE = """
import sys, time
from pipeline.process.startup import start
start([])
started = time.monotonic()
import tfx.components  # imports the Kubernetes client, which imports jsonschema
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
