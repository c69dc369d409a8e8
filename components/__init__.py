"""What each pipeline step does: ingestion, preprocessing, model, weights, evaluation.

Importing this package pins Keras 2 (tf-keras) as `tf.keras` before anything
else can touch it: TFX's Transform and Evaluator need Keras 2, and TF 2.16
fixes which Keras `tf.keras` means the first time it is used. It also caps the
process's malloc arenas (components/memory.py) before any thread starts, and
keeps a slow import nothing uses out of TFX's (components/lean_imports.py).
"""
from components.memory import limit_malloc_arenas

limit_malloc_arenas()  # before TensorFlow's import, which starts threads

from components.lean_imports import skip_unused_iri_grammar  # noqa: E402

skip_unused_iri_grammar()

from components.keras_env import ensure_legacy_keras  # noqa: E402

ensure_legacy_keras()
