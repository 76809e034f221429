"""The operator CLI's pieces: --since/--until values, its tables, its error lines, its parser,
and one command against a stand-in HTTP server."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta

import pytest

from app.cli import main
from app.cli.operator import DELIVERY_STATES, add_operator_commands
from app.cli.operator_commands import collect
from app.cli.relay_client import CliError, RelayClient, refusal, shown_url
from app.cli.tables import cut, deliveries_table, delivery_detail, run_detail, runs_table, when
from app.cli.time_args import duration, point_in_time, time_arg
from app.cli.webhook_tables import webhook_detail, webhooks_table
from app.schemas import operator as operator_schemas
from tests.support.processes import free_port

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
RUN = {
    "id": "run-1",
    "kind": "stored_action",
    "stored_action_id": "sa-1",
    "state": "succeeded",
    "source": "callback",
    "created_at": "2026-11-22T10:00:00.123456Z",
    "settled_at": "2026-11-22T10:00:02Z",
    "poll_count": 0,
    "callback_count": 1,
}
DELIVERY = {
    "id": "del-1",
    "webhook_id": "wh-1",
    "target_url": "http://example.test/hook",
    "event_id": "msg_abc",
    "event_type": "run.succeeded",
    "state": "failed",
    "run_id": "run-1",
    "last_status": 500,
    "created_at": "2026-11-22T10:00:02Z",
    "attempts": [],
}
ATTEMPT = {"at": "2026-11-22T10:00:03Z", "status": 500, "error": "HTTP 500", "latency_ms": 7.5}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("2h", 7200), ("3d", 259200), ("1h30m", 5400), ("1w", 604800), ("45S", 45)],
)
def test_durations(text, seconds):
    assert duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "h", "2x", "-1h", "2 h", "1.5h", "2026-11-22"])
def test_what_is_not_a_duration(text):
    assert duration(text) is None


def test_points_in_time():
    assert point_in_time("2h", NOW) == NOW - timedelta(hours=2)
    assert point_in_time("2026-11-22T10:00:00Z", NOW) == datetime(2026, 11, 22, 10, tzinfo=UTC)
    with_offset = point_in_time("2026-11-22T11:00:00+01:00", NOW)
    assert with_offset == datetime(2026, 11, 22, 10, tzinfo=UTC)
    # Without an offset a time is UTC, like every time the relay prints.
    assert point_in_time("2026-11-22T10:00", NOW) == datetime(2026, 11, 22, 10, tzinfo=UTC)
    assert point_in_time("2026-11-22", NOW) == datetime(2026, 11, 22, tzinfo=UTC)
    with pytest.raises(ValueError, match="30m, 2h"):
        point_in_time("last tuesday", NOW)


def test_time_arg_is_what_the_api_takes():
    assert time_arg("2026-11-22T11:00:00+01:00") == "2026-11-22T10:00:00Z"
    assert time_arg("1h").endswith("Z")
    with pytest.raises(argparse.ArgumentTypeError):
        time_arg("soon")


def test_cells():
    assert when("2026-11-22T10:00:00.123456Z") == "2026-11-22 10:00:00Z"
    assert when(None) == "-"
    assert cut("x" * 60, 10) == "x" * 9 + "…"
    assert cut(None) == cut("") == "-"


def test_runs_and_a_run():
    listing = runs_table([RUN])
    assert listing.splitlines()[0].split()[:2] == ["ID", "STATE"]
    assert "run-1" in listing and "2026-11-22 10:00:00Z" in listing
    assert runs_table([]) == "no runs match"
    timeline = [{"at": "2026-11-22T10:00:02Z", "event": "settled", "detail": {"source": "poll"}}]
    shown = run_detail(
        {**RUN, "deliveries": [{**DELIVERY, "attempts": [ATTEMPT]}], "timeline": timeline}
    )
    head, deliveries, entries = shown.split("\n\n")
    assert "polls / callbacks  0 / 1" in head
    assert deliveries.startswith("Deliveries") and "RUN" not in deliveries and "del-1" in deliveries
    assert entries.startswith("Timeline") and "source=poll" in entries


def test_deliveries_and_a_delivery():
    listing = deliveries_table([DELIVERY])
    assert "RUN" in listing and "run-1" in listing and "500" in listing
    assert deliveries_table([]) == "no deliveries match"
    shown = delivery_detail({**DELIVERY, "attempts": [ATTEMPT, {**ATTEMPT, "status": None}]})
    assert "webhook-id msg_abc" in shown
    attempts = shown.split("Attempts\n")[1].splitlines()
    assert len(attempts) == 4 and "7.5" in attempts[2]
    assert delivery_detail({**DELIVERY, "attempts": []}).endswith("no attempts yet")


def test_webhooks_with_their_health():
    health = {"state": "enabled", "consecutive_failures": 0}
    good = {
        "id": "wh-1",
        "url": "http://a.test/",
        "origin": "env",
        "health": {**health, "last_success_at": "2026-11-22T10:00:00Z", "last_success_status": 204},
    }
    resting = {
        "id": "wh-2",
        "url": "http://b.test/",
        "health": {
            "state": "paused",
            "paused_until": "2026-11-22T10:05:00Z",
            "consecutive_failures": 5,
            "last_failure_at": "2026-11-22T10:00:00Z",
            "last_failure_status": 503,
        },
    }
    off = {
        "id": "wh-3",
        "url": "http://c.test/",
        "health": {"state": "disabled", "disabled_reason": "failing for 5 days"},
    }
    rows = webhooks_table([good, resting, off]).splitlines()[2:]
    assert "2026-11-22 10:00:00Z (204)" in rows[0]
    assert "paused until 2026-11-22 10:05:00Z" in rows[1] and "(503)" in rows[1]
    assert "disabled (failing for 5 days)" in rows[2]
    assert webhooks_table([]) == "no webhooks"
    shown = webhook_detail({**good, "health": {**good["health"], "success_rate_24h": 0.875}})
    assert "success rate 24 h     87.5%" in shown


def test_refusals_are_one_line_saying_what_to_do():
    entry = {"status": "401", "code": "unauthorized", "detail": "Unknown API key."}
    assert "set RELAY_API_KEY" in str(refusal(401, {"errors": [entry]}, "webhooks"))
    missing = refusal(404, {"errors": [{"detail": "No such delivery."}]}, "delivery d1")
    assert str(missing) == "not found: delivery d1 (No such delivery.)"
    invalid = {
        "code": "invalid",
        "detail": "Not a valid datetime.",
        "source": {"parameter": "since"},
    }
    assert str(refusal(400, {"errors": [invalid]}, "x")) == (
        "HTTP 400 invalid: Not a valid datetime. (since)"
    )
    assert str(refusal(502, None, "x")) == "HTTP 502 error"
    assert refusal(409, {}, "x").code == 1


def test_urls_are_printed_without_credentials():
    assert shown_url("https://user:pw@relay.test:8443/x") == "https://relay.test:8443/x"
    assert shown_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000"


def test_the_delivery_states_are_the_apis():
    assert DELIVERY_STATES == operator_schemas.DELIVERY_STATES


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="relay")
    add_operator_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_common_options_go_before_or_after_show():
    args = parse("runs", "--json", "--url", "http://r.test", "show", "run-1")
    assert (args.json, args.url, args.id, args.func.__name__) == (
        True,
        "http://r.test",
        "run-1",
        "show_run",
    )
    assert parse("deliveries", "show", "d1", "--json").json is True
    listing = parse("deliveries", "--state", "failed", "--webhook", "wh-1", "--limit", "5")
    assert (listing.state, listing.webhook, listing.limit) == ("failed", "wh-1", 5)
    assert not hasattr(parse("webhooks"), "json")  # --json unset reads as False


@pytest.mark.parametrize(
    "argv",
    [
        ["deliveries", "--state", "bogus"],
        ["recover", "wh-1"],
        ["runs", "--limit", "0"],
        ["redeliver"],
    ],
)
def test_usage_errors_exit_2(argv):
    with pytest.raises(SystemExit) as exited:
        parse(*argv)
    assert exited.value.code == 2


def test_a_command_against_a_stand_in(httpserver, monkeypatch, capsys):
    """The key goes as a Bearer header and is never printed; --json is the body as sent."""
    body = {"data": [DELIVERY], "next_cursor": None}
    httpserver.expect_request(
        "/v1/deliveries",
        query_string={"state": "failed", "limit": "20"},
        headers={"Authorization": "Bearer secret-key-1"},
    ).respond_with_json(body)
    httpserver.expect_request("/v1/deliveries/nope/redeliver", method="POST").respond_with_json(
        {"errors": [{"status": "404", "code": "not_found", "detail": "No such delivery."}]}, 404
    )
    monkeypatch.setenv("RELAY_URL", httpserver.url_for(""))
    monkeypatch.setenv("RELAY_API_KEY", "secret-key-1")
    assert main(["deliveries", "--state", "failed", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == body
    assert main(["redeliver", "nope"]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", "relay: not found: delivery nope (No such delivery.)\n")


def test_no_relay_there_exits_2_naming_the_url(monkeypatch, capsys):
    monkeypatch.setenv("RELAY_API_KEY", "secret-key-1")
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["webhooks", "--url", url]) == 2
    err = capsys.readouterr().err
    assert url in err and "connection refused" in err and "secret-key-1" not in err
    with pytest.raises(CliError, match="RELAY_URL"):
        RelayClient.from_args(argparse.Namespace(url="relay.test:8000"))


def test_a_long_limit_follows_the_cursor():
    class Pages:
        def __init__(self):
            self.asked = []

        def get(self, path, what, params):
            self.asked.append(params)
            start = int(params["cursor"] or 0)
            rows = [{"id": str(n)} for n in range(start, start + params["limit"])]
            return {"data": rows, "next_cursor": str(start + len(rows))}

    pages = Pages()
    got = collect(pages, "/v1/runs", "runs", {"status": None, "cursor": None}, 250)
    assert [p["limit"] for p in pages.asked] == [200, 50]
    assert len(got["data"]) == 250 and got["next_cursor"] == "250"
