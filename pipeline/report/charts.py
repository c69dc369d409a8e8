"""Charts as inline SVG: bars, lines per epoch and a heat map, drawn without a plotting library.

Each function returns markup ready for the template (labels escaped); the
numbers are also written as text in the SVG, so they can be read and searched.
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

from markupsafe import Markup, escape

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f")
_FONT = 'font-family="sans-serif" font-size="11"'


def _svg(width: int, height: int, body: List[str], label: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}">' + "".join(body) + "</svg>"
    )


def _nice_max(value: float) -> float:
    """A round upper bound for an axis (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    step = 10 ** (len(str(int(value))) - 1) if value >= 1 else 0.1
    for factor in (1, 2, 5, 10):
        if value <= factor * step:
            return float(factor * step)
    return float(10 * step)


def _legend(names: Sequence[str], x: int, y: int) -> List[str]:
    items = []
    for index, name in enumerate(names):
        colour = PALETTE[index % len(PALETTE)]
        items.append(f'<rect x="{x}" y="{y + 16 * index}" width="10" height="10" fill="{colour}"/>')
        items.append(f'<text x="{x + 14}" y="{y + 9 + 16 * index}" {_FONT}>{escape(name)}</text>')
    return items


def bar_chart(categories: Sequence[str], series: Dict[str, Sequence[float]], label: str) -> Markup:
    """Grouped vertical bars: one group per category, one bar per series, the value above each bar."""
    names = list(series)
    top = _nice_max(max([v for values in series.values() for v in values] or [0]))
    group_width = max(24 * len(names) + 16, 60)
    width, height, left, bottom, plot_top = 80 + group_width * len(categories) + 110, 240, 50, 190, 20
    plot_height = bottom - plot_top
    body = [
        f'<line x1="{left}" y1="{bottom}" x2="{left + group_width * len(categories)}" y2="{bottom}" stroke="#333"/>',
        f'<text x="{left - 6}" y="{plot_top + 4}" text-anchor="end" {_FONT}>{top:g}</text>',
        f'<text x="{left - 6}" y="{bottom}" text-anchor="end" {_FONT}>0</text>',
    ]
    for c_index, category in enumerate(categories):
        x0 = left + group_width * c_index + 8
        for s_index, name in enumerate(names):
            value = series[name][c_index]
            bar = plot_height * value / top
            x = x0 + 24 * s_index
            body.append(
                f'<rect x="{x}" y="{bottom - bar:.1f}" width="20" height="{bar:.1f}" '
                f'fill="{PALETTE[s_index % len(PALETTE)]}"><title>{escape(name)} {escape(category)}: {value:g}</title></rect>'
            )
            body.append(f'<text x="{x + 10}" y="{bottom - bar - 3:.1f}" text-anchor="middle" {_FONT}>{value:g}</text>')
        body.append(
            f'<text x="{x0 + 12 * len(names) - 2}" y="{bottom + 16}" text-anchor="middle" {_FONT}>{escape(category)}</text>'
        )
    body += _legend(names, left + group_width * len(categories) + 20, plot_top)
    return _svg(width, height, body, label)


def line_chart(series: Dict[str, Sequence[Tuple[float, float]]], label: str, y_name: str) -> Markup:
    """Lines over epochs with a dot and its value at each point; y from 0 to a round maximum."""
    points = [p for values in series.values() for p in values]
    epochs = sorted({int(x) for x, _ in points})
    top = _nice_max(max([y for _, y in points] or [0]))
    width, height, left, right, bottom, plot_top = 420, 220, 50, 300, 180, 20
    span = max(len(epochs) - 1, 1)

    def position(x, y):
        return left + (right - left) * (epochs.index(int(x)) / span if len(epochs) > 1 else 0.5), bottom - (bottom - plot_top) * y / top

    body = [
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333"/>',
        f'<line x1="{left}" y1="{plot_top}" x2="{left}" y2="{bottom}" stroke="#333"/>',
        f'<text x="{left - 6}" y="{plot_top + 4}" text-anchor="end" {_FONT}>{top:g}</text>',
        f'<text x="{left - 6}" y="{bottom}" text-anchor="end" {_FONT}>0</text>',
        f'<text x="{(left + right) / 2}" y="{bottom + 32}" text-anchor="middle" {_FONT}>epoch</text>',
        f'<text x="12" y="{(plot_top + bottom) / 2}" transform="rotate(-90 12 {(plot_top + bottom) / 2})" '
        f'text-anchor="middle" {_FONT}>{escape(y_name)}</text>',
    ]
    for epoch in epochs:
        x, _ = position(epoch, 0)
        body.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" {_FONT}>{epoch}</text>')
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        coordinates = [position(x, y) for x, y in values]
        if len(coordinates) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for (x, y), (_, value) in zip(coordinates, values):
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(name)}: {value:.4f}</title></circle>')
    body += _legend(list(series), right + 16, plot_top)
    return _svg(width, height, body, label)


def heat_map(classes: Sequence[str], counts: Sequence[Sequence[int]], label: str) -> Markup:
    """Confusion matrix: rows true class, columns predicted class; shade by share of the row, count in each cell."""
    cell, left, top = 64, 110, 50
    size = len(classes)
    width, height = left + cell * size + 20, top + cell * size + 40
    body = [
        f'<text x="{left + cell * size / 2}" y="14" text-anchor="middle" {_FONT}>predicted class</text>',
        f'<text x="12" y="{top + cell * size / 2}" transform="rotate(-90 12 {top + cell * size / 2})" '
        f'text-anchor="middle" {_FONT}>true class</text>',
    ]
    for index, name in enumerate(classes):
        body.append(f'<text x="{left + cell * index + cell / 2}" y="{top - 8}" text-anchor="middle" {_FONT}>{escape(name)}</text>')
        body.append(f'<text x="{left - 8}" y="{top + cell * index + cell / 2 + 4}" text-anchor="end" {_FONT}>{escape(name)}</text>')
    for row, values in enumerate(counts):
        total = sum(values) or 1
        for column, value in enumerate(values):
            share = value / total
            shade = PALETTE[0] if row == column else PALETTE[3]
            text_colour = "#fff" if share > 0.5 else "#000"
            x, y = left + cell * column, top + cell * row
            body.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{shade}" fill-opacity="{0.08 + 0.92 * share:.3f}" '
                f'stroke="#fff"><title>true {escape(classes[row])}, predicted {escape(classes[column])}: {value}</title></rect>'
            )
            body.append(
                f'<text x="{x + cell / 2}" y="{y + cell / 2 + 5}" text-anchor="middle" font-family="sans-serif" '
                f'font-size="15" fill="{text_colour}" class="cell">{value}</text>'
            )
    return _svg(width, height, body, label)
