"""The console's pure pieces: filters read from query strings, percentiles, budget rows,
times and durations as shown."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from app.console import filters, formatting
from app.console.overview import budget_rows, percentile

T0 = datetime(2026, 1, 31, 9, 30, tzinfo=UTC).timestamp()


def test_run_filters_keep_good_values_and_name_each_bad_one():
    found, problems = filters.run_filters(
        {
            "state": "failed",
            "account": "acme",
            "since": "2026-01-31T09:30",
            "until": "soon",
            "id": " 1234 ",
            "stored_action": "",
        }
    )
    assert found == {"state": "failed", "account_id": "acme", "since": T0, "id": "1234"}
    assert problems == ["until: a date and time such as 2026-01-31T09:30 (UTC)."]
    _, problems = filters.run_filters({"state": "lost", "account": "x" * 65})
    assert [p.split(":")[0] for p in problems] == ["state", "account"]


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-31T09:30",
        "2026-01-31T09:30:00",
        "2026-01-31T09:30:00Z",
        "2026-01-31T10:30:00+01:00",
    ],
)
def test_times_without_an_offset_are_utc(text):
    assert filters.parse_time(text) == T0


def test_a_delivery_query_drops_a_malformed_cursor_and_gives_aware_times():
    query, problems = filters.delivery_query(
        {"state": "held", "since": "2026-01-31T09:30", "cursor": "nonsense"}
    )
    assert query == {"state": "held", "since": datetime.fromtimestamp(T0, tz=UTC)}
    assert not problems


def test_a_recovery_needs_since_before_until():
    assert filters.recovery_window({"since": "2026-01-31T09:30"})[:2] == (T0, None)
    assert filters.recovery_window({})[2] == ["since: required."]
    window = {"since": "2026-01-31T09:30", "until": "2026-01-31T09:00"}
    assert filters.recovery_window(window)[2] == ["until: must be after since."]


def test_percentiles_are_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) is None


def test_budget_rows_read_every_shape_of_snapshot():
    figures = {"limit": 600, "used": 1, "remaining": 599, "window_end": None, "blocked_until": 0}
    exempt = {**figures, "limit": None, "remaining": math.inf}
    assert [(r["account"], r["bucket"]) for r in budget_rows({"get": figures})] == [
        ("default", "get")
    ]
    assert [(r["account"], r["bucket"]) for r in budget_rows({"acme/run": figures})] == [
        ("acme", "run")
    ]
    rows = budget_rows({"b": {"get": figures, "run": exempt}, "a": {"get": figures}})
    assert [(r["account"], r["bucket"]) for r in rows] == [("a", "get"), ("b", "get"), ("b", "run")]
    assert rows[2]["remaining"] is None


def test_times_and_durations_read_well():
    assert formatting.utc_text(T0) == "2026-01-31 09:30:00Z"
    assert formatting.iso_text(T0) == "2026-01-31T09:30:00Z"
    assert formatting.input_text(T0) == "2026-01-31T09:30"
    assert formatting.utc_text(None) == "—"
    assert [formatting.duration(s) for s in (0.25, 1.25, 90, 7200, 172800)] == [
        "250 ms",
        "1.2 s",
        "2 min",
        "2.0 h",
        "2.0 d",
    ]
    assert formatting.ago(T0 - 90, now=T0) == "2 min ago"
    assert formatting.ago(T0 + 5, now=T0) == "in 5.0 s"
    assert formatting.share(0.25) == "25.0 %" and formatting.share(None) == "—"
    assert formatting.json_list('["a"]') == ["a"] and formatting.json_list("{}") == []


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.example/in", "https://hooks.example/in"),
        ("https://hooks.example:8443/in?token=abc", "https://hooks.example:8443/in?[redacted]"),
        ("https://user:pw@hooks.example/in", "https://user:[redacted]@hooks.example/in"),
        ("http://127.0.0.1:9/hook#frag", "http://127.0.0.1:9/hook"),
        (None, ""),
    ],
)
def test_a_target_url_is_shown_without_what_may_be_a_credential(url, shown):
    assert formatting.shown_url(url) == shown
