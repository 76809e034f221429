"""Server-rendered SVG charts: small pure functions from numbers to an SVG string, no script.

Colours come from the console's stylesheet through class names (series-0, series-1, limit),
so a chart needs no inline style, which the Content-Security-Policy would refuse.
"""

from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 30, 26  # room for the y labels, the legend, the x labels
MAX_X_LABELS = 6


def nice_ceiling(value: float) -> float:
    """The axis top: `value` rounded up to 1, 2 or 5 times a power of ten (1 for nothing)."""
    if not value or value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.2g}"


def _frame(
    title: str,
    summary: str,
    top: float,
    labels: list[str],
    body: list[str],
    legend: list[tuple[str, str]],
    unit: str,
) -> str:
    """The svg element: title, y axis from 0 to `top`, sparse x labels, legend, then `body`."""
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="img" aria-label="{escape(f"{title}. {summary}")}">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(summary)}</desc>",
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>'
        )
        text = escape(f"{_number(top * fraction)}{unit}")
        parts.append(
            f'<text class="axis" x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{text}</text>'
        )
    every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    for index in range(0, len(labels), every):
        x = _slot_x(index, len(labels)) + _slot_w(len(labels)) / 2
        parts.append(
            f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 6}" '
            f'text-anchor="middle">{escape(labels[index])}</text>'
        )
    x = LEFT
    for name, css in legend:
        parts.append(f'<rect class="{css}" x="{x}" y="7" width="12" height="12"/>')
        parts.append(f'<text class="legend" x="{x + 16}" y="18">{escape(name)}</text>')
        x += 30 + 8 * len(name)
    parts += body
    parts.append("</svg>")
    return "".join(parts)


def _slot_w(count: int) -> float:
    return (WIDTH - LEFT - RIGHT) / max(1, count)


def _slot_x(index: int, count: int) -> float:
    return LEFT + index * _slot_w(count)


def _y(value: float, top: float) -> float:
    plot_h = HEIGHT - TOP - BOTTOM
    return TOP + plot_h * (1 - min(value, top) / top)


def stacked_bars(
    title: str, labels: list[str], series: dict[str, list[float]], unit: str = ""
) -> str:
    """One bar per label, the series stacked in order (runs per hour by source, say)."""
    names = list(series)
    totals = [sum(series[n][i] for n in names) for i in range(len(labels))]
    top = nice_ceiling(max(totals, default=0))
    width = _slot_w(len(labels))
    body = []
    for i in range(len(labels)):
        base = 0.0
        for s, name in enumerate(names):
            value = series[name][i]
            if value <= 0:
                continue
            y0, y1 = _y(base, top), _y(base + value, top)
            body.append(
                f'<rect class="series-{s}" x="{_slot_x(i, len(labels)) + 1:.1f}" y="{y1:.1f}" '
                f'width="{max(1.0, width - 2):.1f}" height="{y0 - y1:.1f}">'
                f"<title>{escape(f'{labels[i]} {name}: {_number(value)}{unit}')}</title></rect>"
            )
            base += value
    summary = ", ".join(f"{name} {_number(sum(series[name]))}{unit}" for name in names)
    return _frame(
        title,
        f"Totals: {summary}." if names else "No data.",
        top,
        labels,
        body,
        _legend(names),
        unit,
    )


def line_chart(
    title: str, labels: list[str], series: dict[str, list[float | None]], unit: str = ""
) -> str:
    """One polyline per series; None is a gap (an hour with nothing to measure)."""
    names = list(series)
    values = [v for name in names for v in series[name] if v is not None]
    top = nice_ceiling(max(values, default=0))
    width = _slot_w(len(labels))
    body = []
    for s, name in enumerate(names):
        runs: list[list[str]] = [[]]
        for i, value in enumerate(series[name]):
            if value is None:
                runs.append([])
                continue
            x = _slot_x(i, len(labels)) + width / 2
            runs[-1].append(f"{x:.1f},{_y(value, top):.1f}")
        for points in runs:
            if len(points) == 1:
                x, y = points[0].split(",")
                body.append(f'<circle class="series-{s}" cx="{x}" cy="{y}" r="2.5"/>')
            elif points:
                body.append(f'<polyline class="line series-{s}" points="{" ".join(points)}"/>')
    highest = ", ".join(
        f"{name} up to {_number(max((v for v in series[name] if v is not None), default=0))}{unit}"
        for name in names
    )
    return _frame(
        title, f"{highest}." if names else "No data.", top, labels, body, _legend(names), unit
    )


def bars_with_limit(
    title: str, labels: list[str], values: list[float], limit: float, unit: str = ""
) -> str:
    """Bars against a horizontal limit line (upstream calls per budget window, say)."""
    top = nice_ceiling(max([*values, limit], default=0))
    width = _slot_w(len(labels))
    body = []
    for i, value in enumerate(values):
        if value <= 0:
            continue
        y = _y(value, top)
        over = " over" if value >= limit else ""
        body.append(
            f'<rect class="series-0{over}" x="{_slot_x(i, len(labels)) + 1:.1f}" y="{y:.1f}" '
            f'width="{max(1.0, width - 2):.1f}" height="{_y(0, top) - y:.1f}">'
            f"<title>{escape(f'{labels[i]}: {_number(value)}{unit} of {_number(limit)}')}"
            f"</title></rect>"
        )
    line_y = _y(limit, top)
    body.append(
        f'<line class="limit" x1="{LEFT}" y1="{line_y:.1f}" x2="{WIDTH - RIGHT}" '
        f'y2="{line_y:.1f}"/>'
    )
    peak = max(values, default=0)
    summary = f"Highest {_number(peak)}{unit} of a limit of {_number(limit)}{unit}."
    return _frame(
        title, summary, top, labels, body, [("used", "series-0"), ("limit", "limit")], unit
    )


def _legend(names: list[str]) -> list[tuple[str, str]]:
    return [(name, f"series-{index}") for index, name in enumerate(names)]
