"""The operator CLI's readable output: the API's JSON as tables (tabulate), times in UTC."""

from __future__ import annotations

from tabulate import tabulate

# Long URLs and errors are cut so a row fits a terminal; --json shows them whole.
CELL_WIDTH = 48
NONE = "-"


def when(text: str | None) -> str:
    """'2026-11-22T10:00:03.123456Z' as '2026-11-22 10:00:03Z' (the API's times are UTC)."""
    if not text:
        return NONE
    day, _, clock = text.partition("T")
    return f"{day} {clock.split('.')[0].removesuffix('Z')}Z" if clock else text


def cut(value, width: int = CELL_WIDTH) -> str:
    text = NONE if value is None or value == "" else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def table(headers: list[str], rows: list[list]) -> str:
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def fields(pairs: list[tuple[str, object]]) -> str:
    """A record as 'name  value' lines."""
    rows = [[name, cut(value, 100)] for name, value in pairs]
    return tabulate(rows, tablefmt="plain", disable_numparse=True)


def detail_text(detail: dict | None) -> str:
    """A timeline entry's detail as k=v pairs, the empty ones left out."""
    return " ".join(f"{k}={v}" for k, v in (detail or {}).items() if v not in (None, ""))


def status_at(at: str | None, status) -> str:
    if not at:
        return NONE
    return f"{when(at)} ({status})" if status is not None else when(at)


def runs_table(runs: list[dict]) -> str:
    if not runs:
        return "no runs match"
    headers = ["ID", "STATE", "SOURCE", "STORED ACTION / ACTION", "CREATED", "SETTLED", "POLLS"]
    rows = [
        [
            r["id"],
            r.get("state"),
            r.get("source") or NONE,
            cut(r.get("stored_action_id") or r.get("action"), 36),
            when(r.get("created_at")),
            when(r.get("settled_at")),
            r.get("poll_count", 0),
        ]
        for r in runs
    ]
    return table(headers, rows)


def run_detail(run: dict) -> str:
    head = fields(
        [
            ("id", run["id"]),
            ("state", run.get("state")),
            ("kind", run.get("kind")),
            ("stored action", run.get("stored_action_id") or run.get("action")),
            ("upstream run", run.get("upstream_run_id")),
            ("settled by", run.get("source")),
            ("reason", run.get("reason")),
            ("created", when(run.get("created_at"))),
            ("submitted", when(run.get("submitted_at"))),
            ("settled", when(run.get("settled_at"))),
            ("polls / callbacks", f"{run.get('poll_count', 0)} / {run.get('callback_count', 0)}"),
        ]
    )
    entries = run.get("timeline") or []
    timeline = table(
        ["AT", "EVENT", "DETAIL"],
        [[when(e["at"]), e["event"], cut(detail_text(e.get("detail")), 90)] for e in entries],
    )
    deliveries = deliveries_table(run.get("deliveries") or [], with_run=False)
    return f"{head}\n\nDeliveries\n{deliveries}\n\nTimeline\n{timeline}"


def last_status(d: dict):
    """A listed delivery carries last_status; a run's delivery only its attempts."""
    if d.get("last_status") is not None:
        return d["last_status"]
    attempts = d.get("attempts") or []
    if not attempts:
        return None
    return attempts[-1].get("status") or attempts[-1].get("error")


def deliveries_table(deliveries: list[dict], with_run: bool = True) -> str:
    """One row per delivery; a run's own table leaves out the RUN column."""
    if not deliveries:
        return "no deliveries match"
    headers = ["ID", "STATE", "WEBHOOK", "EVENT", "RUN", "LAST", "NEXT ATTEMPT", "TARGET"]
    rows = [
        [
            d["id"],
            d.get("state"),
            d.get("webhook_id") or NONE,
            d.get("event_type"),
            d.get("run_id") or d.get("zap_event_id") or NONE,
            cut(last_status(d), 24),
            when(d.get("next_attempt_at")),
            cut(d.get("target_url"), 40),
        ]
        for d in deliveries
    ]
    if not with_run:
        headers.pop(4)
        rows = [row[:4] + row[5:] for row in rows]
    return table(headers, rows)


def delivery_detail(d: dict) -> str:
    head = fields(
        [
            ("id", d["id"]),
            ("state", d.get("state")),
            ("paused because", d.get("paused_reason")),
            ("webhook", d.get("webhook_id")),
            ("target", d.get("target_url")),
            ("event", f"{d.get('event_type')} (webhook-id {d.get('event_id')})"),
            ("run", d.get("run_id") or d.get("zap_event_id")),
            ("created", when(d.get("created_at"))),
            ("delivered", when(d.get("delivered_at"))),
            ("next attempt", when(d.get("next_attempt_at"))),
        ]
    )
    attempts = d.get("attempts") or []
    if not attempts:
        return f"{head}\n\nno attempts yet"
    rows = [
        [
            when(a.get("at")),
            a.get("status") if a.get("status") is not None else NONE,
            a.get("latency_ms") if a.get("latency_ms") is not None else NONE,
            cut(a.get("error"), 40),
            cut(a.get("response_excerpt"), 40),
        ]
        for a in attempts
    ]
    attempts_table = table(["AT", "STATUS", "MS", "ERROR", "RESPONSE"], rows)
    return f"{head}\n\nAttempts\n{attempts_table}"
