"""Renders the report data (pipeline.report.builder) into one self-contained HTML page.

Charts are inline SVG and thumbnails data: URIs, so the file opens offline
in any browser; the page has no script.
"""
from __future__ import annotations

import os
from typing import Optional

import jinja2

from pipeline.report import charts

TEMPLATE = "report.html.j2"
_TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
MAX_SIZES_SHOWN = 8


def fmt(value) -> str:
    """Numbers as a reader wants them: at most 4 decimals; missing values as a dash."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else "NaN"
    return str(value)


def _size_chart(sizes: Optional[dict]):
    if not sizes:
        return None
    totals = {}
    for counts in sizes.values():
        for size, n in counts.items():
            totals[size] = totals.get(size, 0) + n
    shown = sorted(totals, key=lambda s: -totals[s])[:MAX_SIZES_SHOWN]
    series = {split: [counts.get(size, 0) for size in shown] for split, counts in sizes.items()}
    return charts.bar_chart(shown, series, "image sizes per split")


def _training_charts(training: Optional[dict]) -> list:
    found = []
    for stage in (training or {}).get("stages", []):
        def series(key):
            named = {"train": key, "eval": "val_" + key}
            return {
                label: [(e["epoch"], e[name]) for e in stage["epochs"] if e.get(name) is not None]
                for label, name in named.items()
                if any(e.get(name) is not None for e in stage["epochs"])
            }
        found.append({
            "loss": charts.line_chart(series("loss"), f"{stage['name']} loss per epoch", "loss"),
            "accuracy": charts.line_chart(series("accuracy"), f"{stage['name']} accuracy per epoch", "accuracy"),
        })
    return found


def _charts(report: dict) -> dict:
    data, evaluation = report["data"], report["evaluation"]
    confusion = evaluation.get("confusion_matrix")
    return {
        "examples": charts.bar_chart(
            data["classes"], {s: [data["examples"][s].get(c, 0) for c in data["classes"]] for s in data["splits"]},
            "images per class and split",
        ) if data["examples"] else None,
        "image_sizes": _size_chart(data.get("image_sizes")),
        "training": _training_charts(report.get("training")),
        "confusion": charts.heat_map(confusion["classes"], confusion["counts"], "confusion matrix") if confusion else None,
    }


def _pushed_version(pushed: Optional[str]) -> Optional[str]:
    if not pushed or pushed == "not pushed":
        return None
    return os.path.basename(pushed.rstrip("/"))


def render_report(report: dict) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    per_class = report["evaluation"].get("per_class") or {}
    per_class_metrics = sorted({name for values in per_class.values() for name in values})
    examples = report["data"]["examples"] or {}
    return environment.get_template(TEMPLATE).render(
        **report,
        charts=_charts(report),
        fmt=fmt,
        per_class_metrics=per_class_metrics,
        pushed_version=_pushed_version(report["gate"].get("pushed")),
        split_total=lambda split: sum((examples.get(split) or {}).values()) if split in examples else "—",
    )


def write_report(report: dict, path: str) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(render_report(report))
    os.replace(tmp, path)
    return path
