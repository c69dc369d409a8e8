"""The settings table (docs/settings.md, which README's Settings section links to), derived from the
declarations: each setting's name, flag, default and the docstring under its field (`make settings-doc`
writes it; tests/pipeline/cli/test_settings_reference.py checks it). The docstrings are read by
pipeline/config.py (field_docs, setting_doc), which the `run` flags' help shares.

    python -m pipeline.cli.settings_reference [--write docs/settings.md]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Dict, List, Tuple

from pipeline.config import PipelineConfig, setting_doc

BEGIN = "<!-- settings: generated from the declarations by `make settings-doc`; edit the field's docstring -->"
END = "<!-- end of settings -->"
# The page that holds the table (between BEGIN and END). It left README.md when the drift gate's settings
# would have taken README past 300 lines.
SETTINGS_PAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                             "docs", "settings.md")


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


def rows() -> List[Tuple[str, str, str, str]]:
    by_flag = flags()
    table = []
    for field in dataclasses.fields(PipelineConfig):
        meaning, default = setting_doc(field.name)
        flag = f"`{by_flag[field.name]}`" if field.name in by_flag else ""
        table.append((f"`{field.name}`", flag, default, meaning))
    return table


def render() -> str:
    lines = [BEGIN, "", "| setting | flag | default | meaning |", "|---|---|---|---|"]
    lines += [f"| {name} | {flag} | {default} | {meaning} |" for name, flag, default, meaning in rows()]
    return "\n".join(lines + ["", END])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="PAGE", nargs="?", const=SETTINGS_PAGE,
                        help="replace the table between its markers in this file (default docs/settings.md); a "
                             "file without them (README.md, which links to the page) means the page")
    args = parser.parse_args()
    if not args.write:
        print(render())
        return
    with open(args.write, encoding="utf-8") as handle:
        text = handle.read()
    if BEGIN not in text:
        print(f"{args.write} holds no settings table; writing it to {SETTINGS_PAGE}")
        with open(SETTINGS_PAGE, encoding="utf-8") as handle:
            text = handle.read()
        args.write = SETTINGS_PAGE
    before, _, rest = text.partition(BEGIN)
    _, _, after = rest.partition(END)
    with open(args.write, "w", encoding="utf-8") as handle:
        handle.write(before + render() + after)


if __name__ == "__main__":
    main()
