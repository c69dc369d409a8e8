"""`transfer-pipeline` (also `python -m pipeline`): the command line.

Flags and an optional YAML file (--config) build one PipelineConfig; each
subcommand hands it on. Foreseeable errors print one clear line, no traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from typing import List, Optional

from pipeline.run_record.record import ModelRecord, RunRecord


def _setting_help(dest: str, action: Optional[str] = None) -> str:
    """A settings flag's help, from the setting's declaration: the docstring under its field and the declared
    default (pipeline/config.py: setting_doc), as README's settings table shows them."""
    from pipeline.config import setting_doc

    meaning, default = setting_doc(dest, quote="")
    text = f"{meaning} Default: {default}." + (" This flag turns it off." if action == "store_false" else "")
    return text.replace("`", "").replace("%", "%%")  # argparse formats help with %


def _add_run_flags(parser: argparse.ArgumentParser) -> None:
    """The `run` flags. Each flag whose dest is a setting takes its help and its type from the setting's
    declaration; choices come from the tuples the setting's group checks against."""
    import dataclasses

    from components.model.settings import CLASS_WEIGHTINGS
    from components.promotion.settings import BASELINE_POLICIES, COMPARISON_POLICIES
    from pipeline.config import INPUT_FORMATS, RUNNERS, PipelineConfig

    types = {field.name: {"int": int, "float": float}.get(field.type) for field in dataclasses.fields(PipelineConfig)}

    def setting(flag: str, dest: str = "", **options) -> None:
        dest = dest or flag.lstrip("-").replace("-", "_")
        if types[dest] and "action" not in options:
            options["type"] = types[dest]
        parser.add_argument(flag, dest=dest, help=_setting_help(dest, options.get("action")), **options)

    setting("--data-dir")
    setting("--output-dir")
    parser.add_argument("--config", help="YAML file of settings (keys as in pipeline/config.py); flags override it")
    setting("--schema", "schema_path")
    setting("--input-format", choices=INPUT_FORMATS)
    setting("--eval-fraction")
    setting("--group-pattern")
    setting("--window-spans")
    setting("--span")
    setting("--golden-dir")
    setting("--epochs")
    setting("--batch-size")
    setting("--runner", choices=RUNNERS)
    setting("--beam-args")
    setting("--no-cache", "enable_cache", action="store_false", default=None)
    setting("--weights")
    setting("--weights-cache-dir")
    setting("--no-augment", "augment", action="store_false", default=None)
    setting("--image-size")
    setting("--fine-tune-blocks")
    setting("--early-stopping-patience")
    setting("--class-weighting", choices=CLASS_WEIGHTINGS)
    setting("--warm-start", action="store_true", default=None)
    setting("--accuracy-threshold")
    setting("--max-accuracy-drop")
    setting("--class-recall-threshold")
    setting("--max-class-recall-drop")
    setting("--serving-dir")
    setting("--keep-versions")
    setting("--baseline-policy", choices=BASELINE_POLICIES)
    setting("--comparison-policy", choices=COMPARISON_POLICIES)
    setting("--force-push", action="store_true", default=None)
    setting("--accept-drift", action="store_true", default=None)
    # One --reason for both overrides (--force-push, --accept-drift): _config_from hands it to each one on.
    setting("--reason", "force_push_reason")
    parser.add_argument("--verbose", action="store_true", help="show TFX's and Beam's own log lines")


def _config_from(args: argparse.Namespace):
    """The config the flags ask for: every flag whose destination is a PipelineConfig field overrides
    the YAML file and the defaults (so a new flag needs no list of its own here)."""
    import dataclasses

    from pipeline.config import PipelineConfig, build_config

    fields = {field.name for field in dataclasses.fields(PipelineConfig)}
    overrides = {key: value for key, value in vars(args).items() if key in fields and key != "beam_args"}
    if getattr(args, "beam_args", None) is not None:
        overrides["beam_args"] = shlex.split(args.beam_args)
    if overrides.get("force_push_reason") is not None:
        overrides.update(_reasons(overrides.pop("force_push_reason"), overrides, args.config))
    return build_config(args.config, **overrides)


# The overrides that need a reason, and the setting each one records it in: `--reason TEXT` serves them all.
REASONED_OVERRIDES = {"force_push": "force_push_reason", "accept_drift": "accept_drift_reason"}


def _reasons(reason: str, overrides: dict, config_file: Optional[str]) -> dict:
    """{reason setting: reason} for each override that is on (by its flag, else by the config file)."""
    from pipeline.config import ConfigError, load_yaml

    in_file = load_yaml(config_file) if config_file else {}
    on = [name for name in REASONED_OVERRIDES
          if (overrides[name] if overrides.get(name) is not None else in_file.get(name))]
    if not on:
        raise ConfigError("--reason was given without --force-push or --accept-drift; add the override it "
                          "explains, or drop the reason")
    return {REASONED_OVERRIDES[name]: reason for name in on}


def _print_run_summary(record: RunRecord, summary_path: str) -> None:
    print("\nSummary")
    for row in record.components:
        print(f"  {row.component:<24} {row.state:<7} {row.seconds:>7.1f}s")
    for split, counts in record.data.examples.items():
        print(f"  {split:<6} examples: {sum(counts.values())} ({', '.join(f'{k} {v}' for k, v in counts.items())})")
    if record.spans:
        print(f"  spans: {', '.join(record.spans.window)} (newest {record.spans.newest})")
    for line in _drift_lines(record):
        print(f"  {line}")
    if record.data.rejected_files:
        print(f"  rejected files: {len(record.data.rejected_files)} (see {record.data.rejected_files_csv})")
    if record.model.overall():
        from components.promotion.noise_gate import checks_by_slice

        interval = checks_by_slice(record.gate.noise).get("overall")
        spread = f" (95% interval {interval['lower']:.3f}–{interval['upper']:.3f}, {interval['examples']} images)" if interval else ""
        print(f"  eval accuracy: {record.model.accuracy}{spread}  ({record.gate.baseline})")
        change = (interval or {}).get("change")
        if change and "lower" in change:
            print(f"  change vs the serving model: {change['value']:+.4f} (95% interval {change['lower']:+.4f} to "
                  f"{change['upper']:+.4f}: {change['verdict']}; policy {record.gate.noise['policy']})")
        if record.gate.golden:
            print(f"  golden set: {record.gate.golden.describe()}")
        for warning in record.gate.noise_warnings:
            print(f"  warning: {warning}")
    for line in _confusion_lines(record.model):
        print(f"  {line}")
    if record.gate.blessed is not None:
        print(f"  blessed: {'yes' if record.gate.blessed else 'no'} ({record.gate.why})")
        print(f"  {record.gate.push_note or record.gate.pushed}")
    print(f"  run summary: {summary_path}")
    print(f"  report: {record.report_path or 'not written (see the warning above)'}")


# The budget for the drift gate: under this share of a run's wall time.
DRIFT_GATE_TARGET_SHARE = 0.10


def _drift_lines(record: RunRecord) -> List[str]:
    """The drift gate's verdict, what its time added to the run's (not the seconds it ran beside another
    component), and each check beyond its threshold."""
    drift = record.drift
    if not drift:
        return []
    against = f"against serving version {drift.reference_version}" if drift.reference_version is not None else drift.why
    added = drift.added_seconds
    share = added / record.seconds if drift.seconds and record.seconds else None
    took = ""
    if drift.seconds:
        beside = f" ({drift.seconds - added:.1f} s of it beside other components)" if added < drift.seconds else ""
        took = f"{drift.seconds:.1f} s{beside}" + (f", adding {share:.0%} to the run" if share is not None else "")
    lines = [f"drift gate: {drift.verdict} ({against}{'; ' + took if took else ''})"]
    if share is not None and share > DRIFT_GATE_TARGET_SHARE:
        lines.append(f"  the gate added {share:.0%} to the run, above the {DRIFT_GATE_TARGET_SHARE:.0%} target "
                     "(docs/quality.md, \"The drift gate's thresholds\": its cost)")
    lines += [f"  {check.name}: {check.statistic} > {check.threshold} ({check.detail})" for check in drift.failed]
    if drift.accepted_reason:
        lines.append(f"  drift accepted: {drift.accepted_reason}")
    return lines


def _confusion_lines(model: ModelRecord) -> List[str]:
    """The candidate's confusion matrix (rows: true class) with each class's recall and precision."""
    matrix = model.confusion_matrix
    if not matrix:
        return []
    width = max(8, *(len(name) for name in matrix.classes))
    lines = ["confusion matrix (rows: true class, columns: predicted):",
             " " * (width + 2) + " ".join(f"{name:>{width}}" for name in matrix.classes) + "   recall precision"]
    for name, row in zip(matrix.classes, matrix.counts):
        score = model.per_class.get(name, {})
        lines.append(f"  {name:<{width}}" + " ".join(f"{count:>{width}}" for count in row)
                     + f"   {_fraction(score.get('recall'))} {_fraction(score.get('precision'))}")
    return lines


def _fraction(value) -> str:
    return f"{value:>6.3f}" if isinstance(value, float) else f"{'-':>6}"


def _cmd_run(args) -> int:
    from pipeline.local.runner import run_pipeline

    config = _config_from(args)
    record = run_pipeline(config, verbose=args.verbose)
    _print_run_summary(record, config.absolute().summary_path)
    return 0


def _cmd_report(args) -> int:
    from pipeline.local.report_file import regenerate_report

    print(regenerate_report(args.output_dir))
    return 0


def _cmd_make_schema(args) -> int:
    from components.ingestion.folder_scan import scan_image_folder
    from components.schema_contract import schema_text
    from pipeline.config import DEFAULT_GROUP_PATTERN, DEFAULT_SCHEMA_DIR

    classes = args.classes or scan_image_folder(args.data_dir, DEFAULT_GROUP_PATTERN).class_names
    path = os.path.join(args.schema_dir or DEFAULT_SCHEMA_DIR, args.name, "schema.pbtxt")
    if os.path.exists(path) and not args.force:
        print(f"error: {path} exists; pass --force to overwrite it", file=sys.stderr)
        return 2
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(schema_text(sorted(classes)))
    print(json.dumps({"schema": path, "classes": sorted(classes)}))
    return 0


def _cmd_fetch_weights(args) -> int:
    from components.weights import ensure_inception_weights

    print(ensure_inception_weights(args.cache_dir))
    return 0


def _cmd_predict(args) -> int:
    from components.serving_client import predict_files

    failed = 0
    for result in predict_files(args.model_dir, args.images):
        failed += "error" in result
        print(json.dumps(result), flush=True)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="transfer-pipeline", description="Transfer-learning image classifier pipeline on TFX.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the pipeline locally on Apache Beam")
    _add_run_flags(run)
    run.set_defaults(handler=_cmd_run)
    report = commands.add_parser("report", help="(re)write OUTPUT_DIR/report.html from the last run's summary and ML Metadata")
    report.add_argument("output_dir", help="the --output-dir of a `transfer-pipeline run`")
    report.set_defaults(handler=_cmd_report)
    schema = commands.add_parser("make-schema", help="write a schema.pbtxt for a new data set's classes")
    schema.add_argument("--name", required=True, help="data set name: writes schemas/NAME/schema.pbtxt")
    source = schema.add_mutually_exclusive_group(required=True)
    source.add_argument("--classes", nargs="+", help="class names (sorted into label order)")
    source.add_argument("--data-dir", help="take the class names from this folder's sub-folders")
    schema.add_argument("--schema-dir", help="schemas folder (default: the project's schemas/)")
    schema.add_argument("--force", action="store_true", help="overwrite an existing schema")
    schema.set_defaults(handler=_cmd_make_schema)
    weights = commands.add_parser("fetch-weights", help="fetch, convert and cache the ImageNet InceptionV3 weights (offline afterwards)")
    weights.add_argument("--cache-dir", help="default: $TRANSFER_PIPELINE_CACHE/weights, else ~/.cache/transfer-pipeline/weights")
    weights.set_defaults(handler=_cmd_fetch_weights)
    predict = commands.add_parser("predict", help="classify image files with an exported model; one JSON line per image")
    predict.add_argument("--model-dir", required=True, help="a pushed model version, or the serving dir (newest version)")
    predict.add_argument("images", nargs="+", help="image files (JPEG, PNG, GIF, BMP)")
    predict.set_defaults(handler=_cmd_predict)
    from pipeline.cli.kubeflow import register as register_kubeflow

    register_kubeflow(commands)
    from pipeline.cli.serving import register as register_serving

    register_serving(commands)
    return parser


def console_main() -> None:
    """The console script and `python -m pipeline`: main(), then an exit that skips Python's teardown
    (pipeline/process/startup.py: exit_without_teardown says why)."""
    from pipeline.process.startup import exit_without_teardown

    exit_without_teardown(main())


def main(argv: Optional[List[str]] = None) -> int:
    from pipeline.process.startup import start

    args = build_parser().parse_args(argv)  # --help and usage errors end here, before TensorFlow is loaded
    start(sys.argv[1:] if argv is None else argv)
    from pipeline.process.memory import imports_kept_out_of_gc

    with imports_kept_out_of_gc():  # TFX and Beam, with the local runner
        from components.ingestion.folder_scan import DataError
        from components.serving_client import ModelDirError
        from components.weights import WeightsError
        from pipeline.config import ConfigError
        from pipeline.local.interrupts import RunInterrupted
        from pipeline.local.runner import PipelineRunError
        from pipeline.local.run_lock import RunLockedError

    try:
        return args.handler(args)
    except (DataError, ConfigError, ModelDirError, WeightsError, RunLockedError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except RunInterrupted as err:
        print(f"interrupted: {err}", file=sys.stderr)
        return err.exit_code
    except PipelineRunError as err:
        print(f"error: pipeline failed: {err}", file=sys.stderr)
        return 1
