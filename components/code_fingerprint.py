"""A hash of the component code Transform and Trainer import, handed to each in its custom_config.

Both name their function by import path (preprocessing_fn=, run_fn=), which TFX
keys its cache on as a string: without this an edit of the code would reuse a
stale cached Transform or model.
"""
import hashlib
import os

_COMPONENTS_DIR = os.path.dirname(os.path.abspath(__file__))

TRANSFORM_CODE = ("constants.py", "transform")
TRAINER_CODE = ("constants.py", "schema_contract.py", "tfrecords.py", "model", "trainer", "weights")


def _python_files(relative: str):
    path = os.path.join(_COMPONENTS_DIR, relative)
    if os.path.isfile(path):
        yield path
        return
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            yield os.path.join(root, name)


def code_fingerprint(parts=TRANSFORM_CODE + TRAINER_CODE) -> str:
    digest = hashlib.sha256()
    for part in parts:
        for path in _python_files(part):
            digest.update(os.path.relpath(path, _COMPONENTS_DIR).encode())
            with open(path, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()[:16]
