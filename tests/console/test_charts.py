"""The SVG charts are pure functions: well-formed SVG, no script or inline style, honest
numbers, and nothing broken by empty or odd data."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from app.console import charts

SVG = "{http://www.w3.org/2000/svg}"
HOURS = [f"{h:02d}:00" for h in range(24)]


def parsed(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 (the SVG is our own output)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("aria-label")
    for element in root.iter():
        assert element.tag != f"{SVG}script"
        assert "style" not in element.attrib
        assert not any(name.startswith("on") for name in element.attrib)
    return root


def bars(root: ET.Element, css: str) -> list[ET.Element]:
    return [
        r
        for r in root.iter(f"{SVG}rect")
        if css in r.get("class", "").split() and r.find(f"{SVG}title") is not None
    ]


@pytest.mark.parametrize(
    ("value", "top"),
    [
        (0, 1),
        (-3, 1),
        (math.nan, 1),
        (0.3, 0.5),
        (7, 10),
        (10, 10),
        (11, 20),
        (180, 200),
        (201, 500),
        (999, 1000),
    ],
)
def test_the_axis_top_is_a_round_number_at_or_above_the_highest_value(value, top):
    assert charts.nice_ceiling(value) == top


def test_stacked_bars_draw_one_rect_per_nonzero_value_with_heights_in_proportion():
    callback = [0] * 24
    poll = [0] * 24
    callback[3], poll[3], callback[10] = 30, 10, 20
    root = parsed(charts.stacked_bars("Runs", HOURS, {"callback": callback, "poll": poll}))
    drawn_callback, drawn_poll = bars(root, "series-0"), bars(root, "series-1")
    assert len(drawn_callback) == 2 and len(drawn_poll) == 1
    heights = [float(r.get("height")) for r in drawn_callback]
    assert heights[0] == pytest.approx(1.5 * heights[1], rel=0.01)  # 30 against 20
    # The poll part sits on top of the callback part of the same hour.
    top_of_callback = float(drawn_callback[0].get("y"))
    assert float(drawn_poll[0].get("y")) + float(drawn_poll[0].get("height")) == pytest.approx(
        top_of_callback, abs=0.2
    )
    assert "callback 50" in root.get("aria-label") and "poll 10" in root.get("aria-label")


def test_a_line_chart_leaves_gaps_where_there_is_nothing_to_measure():
    p50 = [None] * 24
    p50[2:5] = [0.2, 0.4, 0.3]
    p50[20] = 1.5
    root = parsed(charts.line_chart("Latency", HOURS, {"p50": p50}, " s"))
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 1 and len(lines[0].get("points").split()) == 3
    assert len(list(root.iter(f"{SVG}circle"))) == 1  # the lone hour is a dot
    assert "up to 1.5 s" in root.get("aria-label")


def test_bars_against_a_limit_mark_the_windows_that_reached_it():
    root = parsed(charts.bars_with_limit("Budget", ["a", "b", "c"], [50, 200, 0], 200))
    drawn = bars(root, "series-0")
    assert len(drawn) == 2
    assert "over" in drawn[1].get("class") and "over" not in drawn[0].get("class")
    limit = next(line for line in root.iter(f"{SVG}line") if line.get("class") == "limit")
    assert float(limit.get("y1")) == pytest.approx(float(drawn[1].get("y")), abs=0.2)


@pytest.mark.parametrize("labels", [[], ["only"], HOURS * 3])
def test_empty_and_odd_data_still_make_a_valid_chart(labels):
    zero = [0] * len(labels)
    for svg in (
        charts.stacked_bars("t", labels, {"a": zero}),
        charts.stacked_bars("t", labels, {}),
        charts.line_chart("t", labels, {"p": [None] * len(labels)}),
        charts.bars_with_limit("t", labels, zero, 0),
    ):
        root = parsed(svg)
        assert "nan" not in svg.lower() and "inf" not in svg.lower()
        texts = [t for t in root.iter(f"{SVG}text") if t.get("class") == "axis"]
        assert len(texts) <= 3 + charts.MAX_X_LABELS


def test_text_is_escaped():
    svg = charts.stacked_bars('<script>"', ["<b>"], {"a&b": [1]})
    parsed(svg)
    assert "<script>" not in svg and "<b>" not in svg
