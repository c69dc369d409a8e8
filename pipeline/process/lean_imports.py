"""Keeps imports that nothing here uses out of every process that imports TFX.

1. The IRI grammar. TFX's component package imports the Kubernetes client (for InfraValidator, which
   this pipeline does not run), the client imports jsonschema, and jsonschema imports rfc3987_syntax,
   where it is installed (the locked environment has it for Jupyter), to check the "iri" string
   format: building that grammar takes about 1.5 s at import, on every run and in every Kubeflow
   component's pod. Nothing in this project validates IRIs, so the module is marked absent and
   jsonschema skips that one format checker (it checks formats only when asked to, and every other
   format is unaffected).
2. TFX's component package, `tfx/components/__init__.py`, until a name it defines is asked for. Its
   `__init__` imports every standard component, so importing any one executor
   (`tfx.components.statistics_gen.executor`, or the Evaluator's, which TFX's Kubeflow entrypoint
   imports in every pod) also imported BulkInferrer's, InfraValidator's (the Kubernetes client) and
   Tuner's (KerasTuner, and Keras 3 with it): about 1 s of each Kubeflow pod's set-up, measured in the
   image on 2026-12-04 (median of 5: 5.9 s for the entrypoint's imports, 4.9 s deferred). The package
   is registered with its path but without running its `__init__`, so its submodules import as
   before; the first name taken from the package itself (`from tfx.components import Evaluator`) runs the
   `__init__` once, and from then on the package is TFX's own. This project imports each component
   from its own module, so neither a pod nor a local run runs it.
"""
from __future__ import annotations

import importlib.util
import sys
import threading

IRI_GRAMMAR_MODULE = "rfc3987_syntax"
DEFERRED_PACKAGE = "tfx.components"


def skip_unused_iri_grammar() -> None:
    """Marks rfc3987_syntax absent unless something already imported it. Call before importing TFX."""
    sys.modules.setdefault(IRI_GRAMMAR_MODULE, None)


def defer_package_init(name: str = DEFERRED_PACKAGE) -> None:
    """Registers package `name` so that its submodules import without its `__init__`, which runs at the
    first name asked of the package (PEP 562's module `__getattr__`). Left alone if already imported
    (or not installed). Call before anything imports the package."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    package = importlib.util.module_from_spec(spec)
    lock = threading.RLock()

    def first_name_asked(attribute: str):
        with lock:
            if package.__dict__.get("__getattr__") is first_name_asked:
                del package.__getattr__  # from here on, the package's own lookups only
                spec.loader.exec_module(package)
        if attribute in package.__dict__:
            return package.__dict__[attribute]
        raise AttributeError(f"module {name!r} has no attribute {attribute!r}")

    package.__getattr__ = first_name_asked
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, package)

