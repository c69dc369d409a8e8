"""README's settings table, derived from the declarations: each setting's name, flag, default and
the docstring under its field (`make settings-doc` writes it; tests/test_readme_settings.py checks it).

    python -m pipeline.cli.settings_reference [--write README.md]
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import textwrap
from typing import Dict, List, Tuple

from pipeline.config import PipelineConfig

BEGIN = "<!-- settings: generated from the declarations by `make settings-doc`; edit the field's docstring -->"
END = "<!-- end of settings -->"


def field_docs() -> Dict[str, str]:
    """{setting: the docstring under its field}, the subclass's winning where a field is redeclared."""
    docs: Dict[str, str] = {}
    for cls in reversed(PipelineConfig.__mro__):
        if not dataclasses.is_dataclass(cls):
            continue
        body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
        for field, after in zip(body, body[1:]):
            if isinstance(field, ast.AnnAssign) and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                docs[field.target.id] = " ".join(str(after.value.value).split())
    return docs


def flags() -> Dict[str, str]:
    """{setting: its `run` flag} for the settings that have one."""
    from pipeline.cli.main import build_parser

    run = build_parser()._subparsers._group_actions[0].choices["run"]  # noqa: SLF001 (argparse keeps no public map)
    found: Dict[str, str] = {}
    for action in run._actions:  # noqa: SLF001
        longest = max(action.option_strings, key=len, default="")
        if longest:
            found.setdefault(action.dest, longest)
    return found


def _default(value, doc: str) -> Tuple[str, str]:
    """(the default column, the meaning) from a field's value and docstring ("... Default: how.")."""
    meaning, _, how = doc.partition(" Default: ")
    how = how.rstrip(".")
    shown = {True: "true", False: "false"}.get(value, value) if isinstance(value, bool) else value
    if value in (None, "", []):
        return how or f"`{shown}`", meaning
    return f"`{shown}`" + (f" ({how})" if how else ""), meaning


def rows() -> List[Tuple[str, str, str, str]]:
    docs, by_flag, defaults = field_docs(), flags(), PipelineConfig()
    table = []
    for field in dataclasses.fields(PipelineConfig):
        default, meaning = _default(getattr(defaults, field.name), docs.get(field.name, ""))
        flag = f"`{by_flag[field.name]}`" if field.name in by_flag else ""
        table.append((f"`{field.name}`", flag, default, meaning))
    return table


def render() -> str:
    lines = [BEGIN, "", "| setting | flag | default | meaning |", "|---|---|---|---|"]
    lines += [f"| {name} | {flag} | {default} | {meaning} |" for name, flag, default, meaning in rows()]
    return "\n".join(lines + ["", END])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="README", help="replace the table between its markers in this file")
    args = parser.parse_args()
    if not args.write:
        print(render())
        return
    with open(args.write, encoding="utf-8") as handle:
        text = handle.read()
    before, _, rest = text.partition(BEGIN)
    _, _, after = rest.partition(END)
    with open(args.write, "w", encoding="utf-8") as handle:
        handle.write(before + render() + after)


if __name__ == "__main__":
    main()
