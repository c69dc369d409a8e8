"""The `run` flags speak from the declarations: each settings flag's help is its field's docstring and its
declared default, so no flag repeats a default by hand."""
import dataclasses

from pipeline.cli.main import build_parser, main
from pipeline.config import PipelineConfig, field_docs

SETTINGS = {field.name for field in dataclasses.fields(PipelineConfig)}


def run_flags():
    """{dest: action} of every `run` flag that sets a setting."""
    run = build_parser()._subparsers._group_actions[0].choices["run"]  # noqa: SLF001 (argparse keeps no public map)
    return {action.dest: action for action in run._actions if action.dest in SETTINGS}  # noqa: SLF001


def plain(text):
    """A docstring as the terminal shows it: README's code marks dropped."""
    return text.replace("`", "")


def test_every_settings_flags_help_is_its_docstring_then_the_declared_default():
    defaults, wrong = PipelineConfig(), {}
    for dest, action in run_flags().items():
        meaning, _, words = (plain(part) for part in field_docs()[dest].partition(" Default: "))
        words, value = words.rstrip("."), getattr(defaults, dest)
        declared = str(value).lower() if isinstance(value, bool) else str(value)
        if value in (None, "", []):
            default = words or declared
        else:
            default = f"{declared} ({words})" if words else declared
        turned_off = " This flag turns it off." if action.const is False else ""
        if action.help.replace("%%", "%") != f"{meaning} Default: {default}.{turned_off}":
            wrong[dest] = action.help
    assert wrong == {}


def test_run_help_shows_each_default_once_from_the_declaration(capsys):
    try:
        main(["run", "--help"])
    except SystemExit:
        pass
    shown = " ".join(capsys.readouterr().out.split())

    assert f"Pushed versions kept in the serving dir. Default: {PipelineConfig().keep_versions}." in shown
    assert "with its 95% interval" in shown  # argparse's % escaped
    assert "Default: 0 (off)." in shown  # --fine-tune-blocks: the value, then the docstring's words for it
    assert shown.count("(default") == 0  # no hand-written "(default ...)" left


def test_a_flags_type_and_choices_are_the_settings():
    flags = run_flags()

    assert flags["keep_versions"].type is int and flags["eval_fraction"].type is float
    assert flags["comparison_policy"].choices == ("not_worse", "better", "point")
    assert flags["enable_cache"].default is None  # a flag left out does not override the YAML file


def config_of(*flags, config_file=None):
    from pipeline.cli.main import _config_from

    args = build_parser().parse_args(["run", *flags, *(["--config", str(config_file)] if config_file else [])])
    return _config_from(args)


def test_one_reason_flag_explains_each_override_that_is_on(tmp_path):
    import pytest

    from pipeline.config import ConfigError

    drift = config_of("--accept-drift", "--reason", "hand photographs now")
    assert (drift.accept_drift_reason, drift.force_push_reason) == ("hand photographs now", "")
    both = config_of("--accept-drift", "--force-push", "--reason", "new product line")
    assert (both.accept_drift_reason, both.force_push_reason) == ("new product line", "new product line")
    settings = tmp_path / "settings.yaml"
    settings.write_text("force_push: true\nforce_push_reason: from the file\n")
    assert config_of(config_file=settings).force_push_reason == "from the file"  # config files keep working
    assert config_of("--reason", "from the flag", config_file=settings).force_push_reason == "from the flag"
    with pytest.raises(ConfigError, match="--reason was given without --force-push or --accept-drift"):
        config_of("--reason", "why not")
    with pytest.raises(ConfigError, match="accept_drift needs a reason"):
        config_of("--accept-drift")
