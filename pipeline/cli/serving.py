"""`transfer-pipeline serving list|rollback`: what the serving dir holds, and an earlier version served again.

pipeline/cli/main.py calls register(commands). Foreseeable problems (no such
version, a lock held too long) raise ConfigError, which the CLI prints as one
line with exit code 2.
"""
from __future__ import annotations

import json
import os
from typing import List

from components.serving.versions import SPANS, ServingDirError, ServingFolder, scan, withdrawn_versions
from pipeline.config import ConfigError


def register(commands) -> None:
    serving = commands.add_parser("serving", help="inspect the serving dir, or roll back to an earlier version")
    actions = serving.add_subparsers(dest="serving_command", required=True)
    listing = actions.add_parser("list", help="versions with push time, accuracy, data set, spans, classes; which one TF Serving serves")
    listing.add_argument("--serving-dir", required=True, help="the TF Serving model dir (a run's OUTPUT/serving or --serving-dir)")
    listing.add_argument("--json", action="store_true", help="one JSON document instead of a table")
    listing.set_defaults(handler=list_command)
    back = actions.add_parser("rollback", help="serve an earlier version again (re-published as the newest version, recorded)")
    back.add_argument("--serving-dir", required=True, help="the TF Serving model dir")
    back.add_argument("--to", type=int, dest="to_version", help="version to serve again (default: the newest earlier "
                      "version holding another model than the one serving now)")
    back.set_defaults(handler=rollback_version)


def _how(folder: ServingFolder, withdrawn: set) -> str:
    if not folder.managed:
        return "not pushed by the pipeline (no push_record.json)"
    record = folder.record
    how = f"rollback of {record['rollback_of']}" if record.get("pushed_by") == "rollback" else "pushed"
    if record.get("force_push_reason"):
        how += f", forced: {record['force_push_reason']}"
    if folder.version in withdrawn:
        how += ", withdrawn by a rollback"
    return how


def describe(serving_dir: str) -> List[dict]:
    """One row per numbered folder, oldest first."""
    folders = scan(serving_dir)
    withdrawn = withdrawn_versions(folders)
    rows = []
    for folder in folders:
        record = folder.record or {}
        rows.append({
            "version": folder.version,
            "served": folder is folders[-1],
            "pushed_at": record.get("pushed_at"),
            "how": _how(folder, withdrawn),
            "eval_accuracy": record.get("eval_accuracy"),
            # {slice: {value, lower, upper, examples}}: accuracy and each class's recall, 95% intervals.
            "eval_figures": record.get("eval_figures") or {},
            "data_set": os.path.basename(record["data_dir"].rstrip("/")) if record.get("data_dir") else None,
            "class_names": folder.class_names,
            # The spans of data the model was trained on, oldest first; None for a plain data dir.
            "spans": record.get(SPANS),
            "path": folder.path,
        })
    return rows


def list_command(args) -> int:
    try:
        rows = describe(args.serving_dir)
    except ServingDirError as err:
        raise ConfigError(str(err)) from None
    if args.json:
        print(json.dumps({"serving_dir": args.serving_dir, "versions": rows}, indent=2))
        return 0
    if not rows:
        print(f"{args.serving_dir}: no versions")
        return 0
    print(f"{args.serving_dir}: {len(rows)} version(s); TF Serving serves the highest number")
    for row in rows:
        accuracy = "-" if row["eval_accuracy"] is None else f"{row['eval_accuracy']:.4f}"
        overall = row["eval_figures"].get("overall")
        if overall:
            accuracy += f" ({overall['lower']:.3f}–{overall['upper']:.3f}, {overall['examples']} images)"
        classes = ", ".join(row["class_names"]) if row["class_names"] else "?"
        spans = ", ".join(row["spans"]) if row["spans"] else "-"
        marker = "  <- served" if row["served"] else ""
        print(f"  {row['version']:>12}  {row['pushed_at'] or '-':<20}  accuracy {accuracy:<6}  "
              f"data {row['data_set'] or '-'}  spans {spans}  classes [{classes}]  {row['how']}{marker}")
    return 0


def rollback_version(args) -> int:
    from components.serving.rollback import rollback

    try:
        published = rollback(args.serving_dir, args.to_version)
    except ServingDirError as err:
        raise ConfigError(str(err)) from None
    record = published.record
    print(f"version {published.version} now serves version {record['rollback_of']}'s model "
          f"(was version {record['replaced_version']}; withdrawn: {', '.join(map(str, record['withdraws'])) or 'none'})")
    print(f"  {published.path}")
    return 0
