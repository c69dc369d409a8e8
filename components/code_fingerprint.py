"""A hash of the code Transform's and the Trainer's functions run, handed to each in its custom_config.

Both name their function by import path (preprocessing_fn=, run_fn=), which TFX
keys its cache on as a string: without this an edit of the code would reuse a
stale cached Transform or model. Which files count is derived, not listed: the
module that defines the function and every module of the project it imports,
directly or through others (read from their source, imports inside functions
included), so a new helper module joins the fingerprint when it is imported.
"""
from __future__ import annotations

import ast
import hashlib
import os
from typing import Iterator, List, Set

_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PACKAGES = ("components",)  # what the pods' functions may import from the project


def _module_file(module: str) -> str:
    """components.model.build -> its .py file (a package's __init__.py); '' when it is not one."""
    path = os.path.join(_PROJECT_ROOT, *module.split("."))
    for candidate in (path + ".py", os.path.join(path, "__init__.py")):
        if os.path.isfile(candidate):
            return candidate
    return ""


def _imported_modules(path: str, module: str) -> Iterator[str]:
    """The project modules one file imports, each with its parent packages (which Python runs first)."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), filename=path)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x / from .y import z
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]  # `from pkg import module`
        for name in names:
            if name.split(".")[0] in _PACKAGES:
                parts = name.split(".")
                yield from (".".join(parts[:i]) for i in range(1, len(parts) + 1))


def code_files(*entry_points: str) -> List[str]:
    """The project files that modules or functions (`components.x.y[.function]`) run: their modules'
    and every project module those import, transitively, sorted."""
    seen: Set[str] = set()
    pending = []
    for entry in entry_points:
        module = entry if _module_file(entry) else entry.rpartition(".")[0]
        parts = module.split(".")
        pending += [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    files = set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _module_file(module)
        if path:
            files.add(path)
            pending.extend(_imported_modules(path, module))
    return sorted(files)


def code_fingerprint(*entry_points: str) -> str:
    digest = hashlib.sha256()
    for path in code_files(*entry_points):
        digest.update(os.path.relpath(path, _PROJECT_ROOT).encode())
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:16]
