"""The settings table (docs/settings.md, linked from README's Settings section) and the declaration agree:
every setting, its default and its flag."""
import dataclasses
import os
import re

from pipeline.cli.main import build_parser
from pipeline.cli.settings_reference import SETTINGS_PAGE
from pipeline.config import PipelineConfig

README = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "README.md")
# Defaults the README states in words, because they are found at run time (None or empty here).
FOUND_AT_RUN_TIME = {"data_dir", "schema_path", "weights_cache_dir", "serving_dir", "beam_args", "force_push_reason", "span",
                     "accept_drift_reason"}


def settings_table():
    """{setting: (flag, default text)} from the settings page's table."""
    with open(SETTINGS_PAGE, encoding="utf-8") as handle:
        section = handle.read()
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1].strip("`"), cells[2])
    return rows


def documented(default_text):
    """The first `value` of a default cell, as the declaration would hold it."""
    match = re.search(r"`([^`]*)`", default_text)
    return match.group(1) if match else default_text


def declared(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_every_declared_setting_is_documented_and_nothing_else():
    assert sorted(settings_table()) == sorted(f.name for f in dataclasses.fields(PipelineConfig))


def test_each_documented_default_is_the_declared_one():
    defaults = PipelineConfig()
    wrong = {}
    for name, (_, text) in settings_table().items():
        if name in FOUND_AT_RUN_TIME:
            continue
        value, shown = getattr(defaults, name), documented(text)
        same = float(shown) == value if isinstance(value, float) else shown == declared(value)
        same = same or (value == "" and shown == "none")  # an optional path left empty: documented as none
        if not same:
            wrong[name] = (shown, value)
    assert wrong == {}


def test_each_documented_flag_sets_that_setting_and_every_run_flag_is_documented():
    run = next(action for action in build_parser()._subparsers._group_actions[0].choices.items()  # noqa: SLF001
               if action[0] == "run")[1]
    flags = {option: action.dest for action in run._actions for option in action.option_strings}  # noqa: SLF001
    table = settings_table()
    assert {name: flags.get(flag) for name, (flag, _) in table.items() if flag} == \
        {name: name for name, (flag, _) in table.items() if flag}
    fields = {f.name for f in dataclasses.fields(PipelineConfig)}
    undocumented = {option for option, dest in flags.items() if dest in fields and dest not in
                    {name for name, (flag, _) in table.items() if flag == option}}
    assert undocumented == set()


def test_the_readme_stays_a_users_page_under_300_lines():
    with open(README, encoding="utf-8") as handle:
        assert len(handle.read().splitlines()) < 300


def test_the_table_is_the_one_the_declarations_generate_and_readme_links_to_it():
    from pipeline.cli.settings_reference import BEGIN, END, render

    with open(SETTINGS_PAGE, encoding="utf-8") as handle:
        text = handle.read()
    assert BEGIN in text and END in text, "docs/settings.md lost the settings table's markers"
    shown = BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END
    assert shown == render(), "docs/settings.md's settings table is stale: run `make settings-doc`"
    with open(README, encoding="utf-8") as handle:
        assert "](docs/settings.md)" in handle.read().split("## Settings", 1)[1].split("\n## ", 1)[0]


def test_every_setting_has_a_docstring_under_its_field():
    from pipeline.config import field_docs

    assert sorted(f.name for f in dataclasses.fields(PipelineConfig) if not field_docs().get(f.name)) == []
