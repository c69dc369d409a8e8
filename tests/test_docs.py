"""The docs point at what exists: every Markdown link reaches a file and a heading, every module a doc names is there.

A move that leaves a doc naming the old place fails here, with the doc, its line and what it names.
CHANGELOG.md records history: its links are checked, the paths its past entries name are not.
docs/architecture.md's table of the rooms names every package, and in each package's row every module of it.
"""
import ast
import glob
import os
import re
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HISTORY = ("CHANGELOG.md",)  # names the places things had when they changed
ARCHITECTURE = "docs/architecture.md"
PACKAGES = ("components", "pipeline", "rehearsal")
CODE_ROOTS = ("pipeline", "components", "rehearsal", "tests", "benchmarks")
FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# [text](target) and ![alt](target); the target ends at the first space (a title may follow) or ")".
INLINE_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^)]*)?\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$")
# A place in the code named in text or backticks, not as part of a longer path: a file (pipeline/x/y.py, a
# glob), a folder (pipeline/x/) or a name in a module (pipeline/x/y.function).
CODE_PATH = re.compile(r"(?<![\w./$<-])((?:%s)/[\w./*-]*)" % "|".join(CODE_ROOTS))
# A place as it was at a commit, git's way (f69bc77:benchmarks/repeated_splits.py): history, checked against that commit.
PAST_PATH = re.compile(r"(?<![\w/])([0-9a-f]{7,40}):((?:%s)/[\w./-]*\w)" % "|".join(CODE_ROOTS))
# pipeline.x.y (`python -m pipeline.x`, `pipeline.x.function()`): a module, or a name one defines; not a
# file name (pipeline.yaml) nor part of a longer path or name.
DOTTED_MODULE = re.compile(r"(?<![\w./-])((?:pipeline|components|rehearsal)(?:\.[A-Za-z_]\w*)+)(?![\w/-])")
FILE_SUFFIXES = (".py", ".yaml", ".yml", ".md", ".json", ".txt")


def markdown_files():
    """The tracked Markdown files (the installed packages' in .venv are not the project's)."""
    listed = subprocess.run(["git", "ls-files", "*.md"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return sorted(path for path in listed.splitlines() if not path.startswith(".venv/"))


def prose_lines(text):
    """(line number, line) outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            yield number, line


def slug(heading):
    """GitHub's anchor for a heading: its text without markup, lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text stays, its target goes
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path):
    """Every heading's anchor in a Markdown file; a repeated heading gets -1, -2... as on GitHub."""
    seen, found = {}, set()
    for _, line in prose_lines(open(path, encoding="utf-8").read()):
        heading = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            base = slug(heading.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(doc, root=REPO):
    """'doc:line: target (why)' for each link to a missing file or heading."""
    path = os.path.join(root, doc)
    broken = []
    for number, line in prose_lines(open(path, encoding="utf-8").read()):
        line = CODE_SPAN.sub("", line)  # `[x](y)` in a code span is text, not a link
        for target in INLINE_LINK.findall(line) + REFERENCE_LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto: ...: outside the checkout
                continue
            file_part, _, anchor = target.partition("#")
            linked = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            if not os.path.exists(linked):
                broken.append(f"{doc}:{number}: {target} (no file {os.path.relpath(linked, root)})")
            elif anchor and linked.endswith(".md") and anchor.lower() not in anchors(linked):
                broken.append(f"{doc}:{number}: {target} (no heading #{anchor} in {os.path.relpath(linked, root)})")
    return broken


def module_exists(dotted, root=REPO):
    """Whether a dotted name is a module of the checkout, or a name one of its modules defines."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        base = os.path.join(root, *parts[:cut])
        source = base + ".py" if os.path.isfile(base + ".py") else os.path.join(base, "__init__.py")
        if os.path.isfile(source):
            return cut == len(parts) or parts[cut] in top_level_names(source)
    return False


def code_place_exists(named, root=REPO):
    """pipeline/x/y.py, pipeline/x/ or a glob: some file or folder is there; pipeline/x/y.name: y.py defines name."""
    if glob.glob(os.path.join(root, named)):
        return True
    return not named.endswith(".py") and module_exists(named.rstrip("/").replace("/", "."), root)


def top_level_names(source):
    tree = ast.parse(open(source, encoding="utf-8").read())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def missing_modules(doc, root=REPO):
    """'doc:line: name' for each code file (pipeline/x.py), module (`pipeline.x`) or file at a commit
    (f69bc77:benchmarks/x.py) a doc names that is not there."""
    missing = []
    for number, line in enumerate(open(os.path.join(root, doc), encoding="utf-8").read().splitlines(), 1):
        for commit, named in PAST_PATH.findall(line):
            if subprocess.run(["git", "cat-file", "-e", f"{commit}:{named}"], cwd=root, capture_output=True).returncode:
                missing.append(f"{doc}:{number}: {commit}:{named} (not in that commit)")
        for named in CODE_PATH.findall(PAST_PATH.sub("", line)):
            named = named.rstrip(".")  # the end of a sentence
            if not code_place_exists(named, root):
                missing.append(f"{doc}:{number}: {named}")
        for module in dict.fromkeys(DOTTED_MODULE.findall(line)):
            if not module.endswith(FILE_SUFFIXES) and not module_exists(module, root):
                missing.append(f"{doc}:{number}: {module}")
    return missing


def rooms_table(doc=ARCHITECTURE, root=REPO):
    """{folder: the modules its row names} of the table under "## The rooms": `pipeline/local/` | ... | `runner.py` ..."""
    text = open(os.path.join(root, doc), encoding="utf-8").read()
    section = text.split("\n## The rooms\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = line.split("|")
        folder = re.fullmatch(r"\s*`([\w/]+/)`\s*", cells[1]) if len(cells) > 3 else None
        if folder:
            rows[folder.group(1)] = set(re.findall(r"`([\w.]+\.py)`", "|".join(cells[2:])))
    return rows


def packages(root=REPO):
    """{folder/: its modules' file names} of every package of the code."""
    found = {}
    for package in PACKAGES:
        for folder, dirs, files in os.walk(os.path.join(root, package)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            if "__init__.py" in files:
                found[os.path.relpath(folder, root) + "/"] = {f for f in files if f.endswith(".py") and f != "__init__.py"}
    return found


def test_every_link_in_the_docs_reaches_a_file_and_a_heading_that_exist():
    docs = markdown_files()
    assert "README.md" in docs and "docs/architecture.md" in docs
    assert [broken for doc in docs for broken in broken_links(doc)] == []


def test_every_module_the_docs_name_exists():
    assert [missing for doc in markdown_files() if doc not in HISTORY for missing in missing_modules(doc)] == []


@pytest.mark.parametrize("heading, anchor", [
    ("Rehearse a run here: `make kubeflow-rehearsal`", "rehearse-a-run-here-make-kubeflow-rehearsal"),
    ("Ingestion in detail", "ingestion-in-detail"),
    ("What a run needs (CPU, memory, disk)", "what-a-run-needs-cpu-memory-disk"),
    ("Kubeflow Pipelines v2 / [KFP](https://kubeflow.org)", "kubeflow-pipelines-v2--kfp"),
    ("snake_case and Ümlauts", "snake_case-and-ümlauts"),
])
def test_anchors_follow_githubs_slug_rules(heading, anchor):
    assert slug(heading) == anchor


def test_a_moved_file_a_renamed_heading_and_a_moved_module_are_caught(tmp_path):
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "config.py").write_text("class PipelineConfig:\n    pass\n")
    (tmp_path / "README.md").write_text("# Title\n\n## Settings\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(
        "See [settings](../README.md#settings), [gone](../README.md#outputs), [moved](old.md),\n"
        "`[a code span](x.md)`, `pipeline/config.py`, `pipeline.config.PipelineConfig`,\n"
        "pipeline/local/beam_mode.py and `pipeline.config.NoSuchName`\n"
        "```\n[in a code block](nowhere.md)\npython -m pipeline.report.local\n```\n")

    assert broken_links("docs/guide.md", str(tmp_path)) == [
        "docs/guide.md:1: ../README.md#outputs (no heading #outputs in README.md)",
        "docs/guide.md:1: old.md (no file docs/old.md)",
    ]
    assert missing_modules("docs/guide.md", str(tmp_path)) == [
        "docs/guide.md:3: pipeline/local/beam_mode.py", "docs/guide.md:3: pipeline.config.NoSuchName",
        "docs/guide.md:6: pipeline.report.local",
    ]


def test_the_rooms_table_names_every_package_and_every_module_in_its_own_row():
    rows, code = rooms_table(), packages()
    assert sorted(set(code) - set(rows)) == [], f"packages without a row in {ARCHITECTURE}'s rooms"
    gone = {folder: sorted(name for name in named if not os.path.isfile(os.path.join(REPO, folder, name)))
            for folder, named in rows.items()}
    assert {folder: names for folder, names in gone.items() if names} == {}, "files a row names that its folder does not hold"
    unnamed = {folder: sorted(modules - rows[folder]) for folder, modules in code.items()}
    assert {folder: names for folder, names in unnamed.items() if names} == {}, "modules their package's row does not name"


def test_a_file_named_at_a_commit_is_checked_against_that_commit(tmp_path):
    doc = tmp_path / "history.md"
    doc.write_text("Measured with f69bc77:benchmarks/repeated_splits.py (since replaced), not f69bc77:benchmarks/nowhere.py.\n")

    assert missing_modules(str(doc)) == [f"{doc}:1: f69bc77:benchmarks/nowhere.py (not in that commit)"]
