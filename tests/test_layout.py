"""The layout tells the architecture: each package says its one concern, imports point down, no cycles.

Imports are read wherever Python reads them, inside functions too: a lazy import closes a circle as
surely as one at the top of a file, only later.
"""
import ast
import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("components", "pipeline", "rehearsal")
SHIPPED = ("components", "pipeline")  # setup.py's packages; the rehearsal is a tool of the checkout
# The rooms from the top down: a module imports its own room or a room below it, never one above.
# The rehearsal drives the whole product; the command line drives either runner; both runners build
# the one pipeline; the report and the run record read what a run left; the components know none of it.
LAYERS = (
    ("rehearsal",),
    ("pipeline.__main__",),
    ("pipeline.cli",),
    ("pipeline.local", "pipeline.kubeflow"),
    ("pipeline.pipeline",),
    ("pipeline.report",),
    ("pipeline.run_record",),
    ("pipeline.config",),
    ("pipeline.process",),
    ("components",),
)


def modules():
    """{module name: path} of every module of the project."""
    found = {}
    for package in PACKAGES:
        for root, dirs, files in os.walk(os.path.join(REPO, package)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files:
                if name.endswith(".py"):
                    relative = os.path.relpath(os.path.join(root, name), REPO)[:-3].replace(os.sep, ".")
                    found[relative[: -len(".__init__")] if relative.endswith(".__init__") else relative] = os.path.join(root, name)
    return found


def imported_modules(path, known):
    """The project modules a file imports, at its top or inside its functions (relative imports resolved)."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    package = os.path.relpath(os.path.dirname(path), REPO).replace(os.sep, ".")
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([module] if module else []))
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in names if name in known}


def test_every_package_opens_with_the_concern_it_holds():
    missing = [name for name, path in modules().items() if path.endswith("__init__.py")
               and not ast.get_docstring(ast.parse(open(path, encoding="utf-8").read()))]
    assert missing == []


def test_components_never_import_the_pipeline_above_them():
    known = modules()
    upward = {}
    for name, path in known.items():
        if name.split(".")[0] == "components":
            tree = ast.parse(open(path, encoding="utf-8").read())
            for node in ast.walk(tree):  # also imports inside functions
                module = node.module if isinstance(node, ast.ImportFrom) else None
                imported = [module] if module else [a.name for a in getattr(node, "names", [])] if isinstance(node, ast.Import) else []
                if any(i and i.split(".")[0] == "pipeline" for i in imported):
                    upward.setdefault(name, []).extend(imported)
    assert upward == {}


def test_the_shipped_packages_never_import_the_rehearsal():
    known = modules()
    reaching = {name: sorted(i for i in imported_modules(path, known) if i.split(".")[0] == "rehearsal")
                for name, path in known.items() if name.split(".")[0] in SHIPPED}
    assert {name: found for name, found in reaching.items() if found} == {}


def test_no_module_imports_itself_back_through_others():
    known = modules()
    graph = {name: imported_modules(path, known) - {name} for name, path in known.items()}
    cycles = []

    def visit(node, trail):
        for target in sorted(graph[node]):
            if target in trail:
                cycles.append(trail[trail.index(target):] + [target])
            elif target not in done:
                visit(target, trail + [target])
        done.add(node)

    done = set()
    for start in sorted(graph):
        if start not in done:
            visit(start, [start])
    # A package importing its own submodules is Python's normal way, not a cycle of concerns.
    real = [c for c in cycles if not all(c[0].startswith(m) or m.startswith(c[0]) for m in c)]
    assert real == []


def _room(module):
    """The room of LAYERS a module lives in, and that room's depth (0 at the top)."""
    for depth, rooms in enumerate(LAYERS):
        for room in rooms:
            if module == room or module.startswith(room + "."):
                return room, depth
    raise AssertionError(f"{module} is in no room of LAYERS: add it where it belongs")


def test_imports_only_point_down_the_rooms():
    known = modules()
    upward = sorted(f"{name} -> {target}" for name, path in known.items() for target in imported_modules(path, known)
                    if _room(target)[1] < _room(name)[1])
    assert upward == []


def test_rooms_of_one_layer_never_import_each_other():
    known = modules()
    across = sorted(f"{name} -> {target}" for name, path in known.items() for target in imported_modules(path, known)
                    if _room(target)[1] == _room(name)[1] and _room(target)[0] != _room(name)[0])
    assert across == []


def test_only_the_command_line_imports_the_local_run():
    known = modules()
    outside = sorted(f"{name} -> {target}" for name, path in known.items() for target in imported_modules(path, known)
                     if target.startswith("pipeline.local") and _room(name)[0] not in ("pipeline.local", "pipeline.cli"))
    assert outside == []


# Test folders that mirror no package, and why.
UNMIRRORED_TEST_FOLDERS = {
    "e2e": "whole pipelines, across every package",
    "kubernetes": "kubernetes/'s manifests and Dockerfile: no Python there to mirror",
}


def test_every_test_folder_mirrors_a_package_of_the_code():
    # tests/components/serving/ tests components/serving/: a test in the wrong folder is found by nobody.
    tests = os.path.join(REPO, "tests")
    misplaced = []
    for root, dirs, files in os.walk(tests):
        dirs[:] = [d for d in dirs if d != "__pycache__" and not (root == tests and d in UNMIRRORED_TEST_FOLDERS)]
        folder = os.path.relpath(root, tests)
        if folder != "." and any(name.endswith(".py") for name in files) and not os.path.isfile(
                os.path.join(REPO, folder, "__init__.py")):
            misplaced.append(f"tests/{folder}/")
    assert misplaced == []
