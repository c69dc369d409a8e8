"""A hash of the project's component code, handed to Transform and Trainer.

TFX keys its cache on the module file's own directory only; the module files
import the rest of components/, so without this an edit there would reuse a
stale cached Transform or model.
"""
import hashlib
import os

_COMPONENTS_DIR = os.path.dirname(os.path.abspath(__file__))


def code_fingerprint() -> str:
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(_COMPONENTS_DIR):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(root, name)
            digest.update(os.path.relpath(path, _COMPONENTS_DIR).encode())
            with open(path, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()[:16]
