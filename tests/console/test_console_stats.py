"""The overview's figures and the runs search on both databases, from rows of known times."""

from __future__ import annotations

import math
import time
import uuid

from sqlalchemy import insert

from app.console.listings import PAGE_SIZE, search_runs
from app.console.overview import HOUR, overview
from app.store.engine import write
from app.store.tables import deliveries, delivery_attempts, runs, upstream_calls
from tests.support.run_rows import new_run_row

NOW = math.floor(time.time() / HOUR) * HOUR + 1800  # half past the hour: slots are plain


def settled(at: float, source: str, state: str = "succeeded", **columns) -> dict:
    return new_run_row(
        now=at, state=state, source=source, settled_at=at + 5, submitted_at=at + 1, **columns
    )


def delivery(run: dict, delivered_after: float | None, state: str = "delivered") -> dict:
    delivery_id = str(uuid.uuid4())
    return {
        "id": delivery_id,
        "run_id": run["id"],
        "webhook_id": None,
        "target_url": "http://127.0.0.1:9/hook",
        "target_key": f"url:{delivery_id}",
        "event_id": f"msg_{delivery_id}",
        "event_type": "run.succeeded",
        "body": "{}",
        "state": state,
        "attempts": 1,
        "created_at": run["settled_at"],
        "delivered_at": run["settled_at"] + delivered_after if delivered_after else None,
        "requeue_requested": False,
    }


def seed(services) -> dict:
    old = NOW - 2 * 86400  # outside the last 24 h: counted nowhere
    rows = [
        settled(NOW - 3 * HOUR, "callback"),
        settled(NOW - 3 * HOUR + 60, "callback"),
        settled(NOW - 2 * HOUR, "poll"),
        settled(NOW - HOUR, "callback", "failed", account_id="acme"),
        settled(NOW - 600, "poll", kind="action_run"),
        new_run_row(now=NOW - 7200, state="submitted"),
        new_run_row(now=NOW - 300, state="queued", account_id="acme"),
        settled(old, "callback"),
    ]
    waits = [0.5, 1.0, 2.0, 40.0]
    sent = [delivery(run, wait) for run, wait in zip(rows, waits, strict=False)]
    sent.append(delivery(rows[4], None, "failed"))
    with write(services.engine) as conn:
        for row in rows:  # one by one: the rows name different columns
            conn.execute(insert(runs).values(row))
        for row in sent:
            conn.execute(insert(deliveries).values(row))
        conn.execute(
            insert(delivery_attempts),
            [
                {"delivery_id": d["id"], "attempted_at": NOW - 60, "latency_ms": ms, "status": 200}
                for d, ms in zip(sent, (10, 20, 30, 40, 5000), strict=True)
            ],
        )
        conn.execute(
            insert(upstream_calls),
            [
                {"operation": op, "outcome": "ok", "at": NOW - 10, "run_id": None}
                for op in ["run_stored_action"] * 3 + ["get_stored_action_run"] * 2
            ],
        )
    return {"runs": rows, "deliveries": sent}


def test_the_overview_counts_the_last_day(services):
    seeded = seed(services)
    view = overview(services, now=NOW)
    assert view["runs_total"] == 7
    assert view["runs_by_state"] == {
        "queued": 1,
        "submitted": 1,
        "waiting": 0,
        "succeeded": 4,
        "failed": 1,
        "expired": 0,
        "refused": 0,
    }
    sources = view["sources"]
    assert (sources["callback"], sources["poll"], sources["settled"]) == (3, 2, 5)
    assert sources["callback_share"] == 0.6
    assert sources["miss_rate"] == 0.25  # 1 poll of the 4 stored actions; the v2 run is apart
    latency = view["latency"]
    assert latency["samples"] == 4 and (latency["p50"], latency["p99"]) == (1.0, 40.0)
    assert latency["attempt_p99_ms"] == 5000
    assert view["oldest_open"]["id"] == seeded["runs"][5]["id"]
    assert [d["id"] for d in view["failed"]] == [seeded["deliveries"][4]["id"]]
    assert view["budget"] and {r["bucket"] for r in view["budget"]} == {"get", "run"}
    charts = view["charts"]
    assert "callback 3" in charts["runs"]["svg"] and "poll 2" in charts["runs"]["svg"]
    assert "Highest 3 of a limit" in charts["budget_run"]["svg"]
    assert "Highest 2 of a limit" in charts["budget_get"]["svg"]


def test_runs_are_found_by_any_filter_newest_first_page_by_page(services):
    seeded = seed(services)
    ids = [run["id"] for run in seeded["runs"]]

    def found(**filters) -> list[str]:
        return [row["id"] for row in search_runs(services, filters)["data"]]

    assert found(account_id="acme") == [ids[6], ids[3]]
    assert found(state="succeeded", since=NOW - 4 * HOUR, until=NOW - HOUR) == [
        ids[2],
        ids[1],
        ids[0],
    ]
    assert found(id=ids[5]) == [ids[5]]
    assert found(id="no-such-run") == []

    with write(services.engine) as conn:
        conn.execute(insert(runs), [new_run_row(now=NOW - 5000 - i) for i in range(PAGE_SIZE + 5)])
    first = search_runs(services, {})
    assert len(first["data"]) == PAGE_SIZE and first["next_cursor"]
    rest = search_runs(services, {}, first["next_cursor"])
    assert rest["next_cursor"] is None
    everyone = [r["id"] for r in first["data"] + rest["data"]]
    assert len(everyone) == len(set(everyone)) == PAGE_SIZE + 5 + len(ids)
