"""Keeps an import that nothing here uses out of every process that imports TFX.

TFX's component package imports the Kubernetes client (for InfraValidator, which this pipeline does
not run), the client imports jsonschema, and jsonschema imports rfc3987_syntax, where it is installed
(the locked environment has it for Jupyter), to check the "iri" string format: building that grammar
takes about 1.5 s at import, on every run and in every Kubeflow component's pod. Nothing in this
project validates IRIs, so the module is marked absent and jsonschema skips that one format checker
(it checks formats only when asked to, and every other format is unaffected).
"""
import sys

IRI_GRAMMAR_MODULE = "rfc3987_syntax"


def skip_unused_iri_grammar() -> None:
    """Marks rfc3987_syntax absent unless something already imported it. Call before importing TFX."""
    sys.modules.setdefault(IRI_GRAMMAR_MODULE, None)
