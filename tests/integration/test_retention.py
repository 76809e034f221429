"""Retention: old final work is purged with every row it owns; open or young work never is."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

from sqlalchemy import func, insert, select

from app.observability.event_metrics import PURGED
from app.store import retention_repo
from app.store.engine import read, write
from app.store.tables import (
    callbacks,
    deliveries,
    delivery_attempts,
    runs,
    upstream_calls,
    zap_run_events,
    zap_runs,
    zap_watches,
)
from app.worker.maintenance import MaintenanceLane, purge_all, purge_step
from app.worker.tasks import deliver_one, poll_one
from tests.integration.helpers import run_row, trigger
from tests.support.processes import wait_for
from tests.support.run_rows import new_run_row

DAY = 86400.0
NOW = time.time()
OLD = NOW - 40 * DAY  # past the default 30-day window
CUTOFF = NOW - 30 * DAY
TABLES = (
    runs,
    callbacks,
    upstream_calls,
    deliveries,
    delivery_attempts,
    zap_runs,
    zap_run_events,
)


def _delivery(at: float, state: str = "delivered", **subject) -> dict:
    delivery_id = str(uuid.uuid4())
    return {
        "id": delivery_id,
        "run_id": None,
        "zap_event_id": None,
        "webhook_id": None,
        "target_url": "http://127.0.0.1:9/hook",
        "target_key": f"url:http://127.0.0.1:9/hook/{delivery_id}",
        "event_id": f"msg_{uuid.uuid4().hex}",
        "event_type": "run.succeeded",
        "body": "{}",
        "state": state,
        "attempts": 1,
        "created_at": at,
        "requeue_requested": False,
        **subject,
    }


def _attempt(delivery_id: str, at: float) -> dict:
    return {"delivery_id": delivery_id, "attempted_at": at, "status": 204, "latency_ms": 3.0}


def add_run(
    engine, at: float, state: str = "succeeded", settled_at: float | None = None, targets=3,
    delivery_state: str = "delivered",
) -> str:  # fmt: skip
    """A run with a callback, two upstream calls, and `targets` deliveries of one attempt each."""
    run = new_run_row(now=at, state=state, settled_at=settled_at)
    if state in ("succeeded", "failed", "expired", "refused") and settled_at is None:
        run["settled_at"] = at + 5
    rows = [_delivery(at, delivery_state, run_id=run["id"]) for _ in range(targets)]
    with write(engine) as conn:
        conn.execute(insert(runs), run)
        conn.execute(
            insert(callbacks),
            {"run_id": run["id"], "received_at": at, "verdict": "settled", "body": "{}",
             "headers_json": "{}", "signature_verified": False},
        )  # fmt: skip
        for operation in ("submit", "poll"):
            conn.execute(
                insert(upstream_calls),
                {"run_id": run["id"], "operation": operation, "outcome": "ok", "at": at},
            )
        if rows:
            conn.execute(insert(deliveries), rows)
            conn.execute(insert(delivery_attempts), [_attempt(r["id"], at) for r in rows])
    return run["id"]


def add_zap_run(engine, at: float, delivery_state: str = "delivered", start: float | None = None):
    """A Zap run seen at `at` with two status events, each delivered to one target."""
    zap_run_id = uuid.uuid4().hex
    with write(engine) as conn:
        conn.execute(
            insert(zap_runs),
            {"id": zap_run_id, "status": "success", "body": "{}", "search_text": "",
             "start_time": at if start is None else start, "first_seen_at": at, "updated_at": at},
        )  # fmt: skip
        for status in ("running", "success"):
            event_id = str(uuid.uuid4())
            conn.execute(
                insert(zap_run_events),
                {"id": event_id, "zap_run_id": zap_run_id, "status": status,
                 "event_id": f"msg_{uuid.uuid4().hex}", "body": "{}", "created_at": at},
            )  # fmt: skip
            row = _delivery(at, delivery_state, zap_event_id=event_id, event_type="zap_run.x")
            conn.execute(insert(deliveries), row)
            conn.execute(insert(delivery_attempts), _attempt(row["id"], at))
    return zap_run_id


def add_watch(engine, from_date: float, calls_at: tuple[float, ...] = (), enabled=True) -> str:
    watch_id = str(uuid.uuid4())
    with write(engine) as conn:
        conn.execute(
            insert(zap_watches),
            {"id": watch_id, "statuses_json": "[]", "webhook_ids_json": "[]", "enabled": enabled,
             "from_date": from_date, "next_poll_at": NOW + DAY, "runs_seen": 0,
             "created_at": OLD, "updated_at": OLD},
        )  # fmt: skip
        for at in calls_at:
            conn.execute(
                insert(upstream_calls),
                {"run_id": watch_id, "operation": "list_zap_runs", "outcome": "ok", "at": at},
            )
    return watch_id


def counts(engine) -> dict[str, int]:
    with read(engine) as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES
        }


def rows_of_run(engine, run_id: str) -> dict[str, int]:
    with read(engine) as conn:
        mine = select(deliveries.c.id).where(deliveries.c.run_id == run_id)
        return {
            "runs": conn.execute(select(func.count()).where(runs.c.id == run_id)).scalar_one(),
            "callbacks": conn.execute(
                select(func.count()).where(callbacks.c.run_id == run_id)
            ).scalar_one(),
            "upstream_calls": conn.execute(
                select(func.count()).where(upstream_calls.c.run_id == run_id)
            ).scalar_one(),
            "deliveries": conn.execute(
                select(func.count()).where(deliveries.c.run_id == run_id)
            ).scalar_one(),
            "delivery_attempts": conn.execute(
                select(func.count()).where(delivery_attempts.c.delivery_id.in_(mine))
            ).scalar_one(),
        }


def purge_until_empty(engine, cutoff: float, limit: int | None = None) -> Counter:
    total: Counter = Counter()
    while purged := retention_repo.purge_batch(engine, cutoff, limit):
        total.update(purged)
    return total


def test_an_old_final_run_goes_with_every_row_it_owns(services):
    engine = services.engine
    gone = [add_run(engine, OLD, state) for state in ("succeeded", "failed", "expired", "refused")]
    kept = add_run(engine, NOW - DAY)
    purged = purge_until_empty(engine, CUTOFF)
    assert purged == {
        "runs": 4,
        "callbacks": 4,
        "upstream_calls": 8,
        "deliveries": 12,
        "delivery_attempts": 12,
    }
    for run_id in gone:
        assert set(rows_of_run(engine, run_id).values()) == {0}
    assert rows_of_run(engine, kept) == {
        "runs": 1,
        "callbacks": 1,
        "upstream_calls": 2,
        "deliveries": 3,
        "delivery_attempts": 3,
    }


def test_open_work_and_young_runs_are_never_touched(services):
    engine = services.engine
    kept = [
        add_run(engine, OLD, "queued"),
        add_run(engine, OLD, "submitted"),
        add_run(engine, OLD, "waiting"),
        add_run(engine, OLD, delivery_state="pending"),  # an undelivered forward
        add_run(engine, OLD, delivery_state="held"),  # its target disabled: held, never dropped
        add_run(engine, OLD, settled_at=NOW - DAY),  # created long ago, settled lately
        add_run(engine, NOW - DAY),
    ]
    # One open delivery among final ones keeps the whole run.
    mixed = add_run(engine, OLD)
    with write(engine) as conn:
        first = conn.execute(select(deliveries.c.id).where(deliveries.c.run_id == mixed)).first()
        conn.execute(deliveries.update().where(deliveries.c.id == first[0]).values(state="pending"))
    before = counts(engine)
    assert purge_until_empty(engine, CUTOFF) == {}
    assert counts(engine) == before
    for run_id in [*kept, mixed]:
        assert rows_of_run(engine, run_id)["runs"] == 1


def test_zap_runs_go_with_their_events_unless_a_delivery_is_open(services):
    engine = services.engine
    gone = add_zap_run(engine, OLD)
    pending = add_zap_run(engine, OLD, delivery_state="pending")
    held = add_zap_run(engine, OLD, delivery_state="held")
    young = add_zap_run(engine, NOW - DAY)
    purged = purge_until_empty(engine, CUTOFF)
    assert purged == {"zap_runs": 1, "zap_run_events": 2, "deliveries": 2, "delivery_attempts": 2}
    with read(engine) as conn:
        left = set(conn.execute(select(zap_runs.c.id)).scalars())
        events = conn.execute(select(func.count()).select_from(zap_run_events)).scalar_one()
    assert left == {pending, held, young} and gone not in left
    assert events == 6


def test_a_zap_run_an_enabled_watch_would_list_again_is_kept(services):
    engine = services.engine
    add_watch(engine, from_date=OLD - DAY)  # its next scan starts before the run
    add_watch(engine, from_date=OLD - 2 * DAY, enabled=False)  # a disabled one scans nothing
    in_reach = add_zap_run(engine, OLD)
    add_zap_run(engine, OLD, start=OLD - 3 * DAY)  # started before every enabled mark
    purged = purge_until_empty(engine, CUTOFF)
    assert purged["zap_runs"] == 1
    with read(engine) as conn:
        assert set(conn.execute(select(zap_runs.c.id)).scalars()) == {in_reach}


def test_operational_event_deliveries_and_watch_scan_calls(services):
    engine = services.engine
    old_final = [_delivery(OLD, "failed", event_type="webhook.disabled") for _ in range(2)]
    old_open = _delivery(OLD, "pending", event_type="run.expired")
    young = _delivery(NOW - DAY, "delivered", event_type="budget.exhausted")
    with write(engine) as conn:
        conn.execute(insert(deliveries), [*old_final, old_open, young])
        attempts = [_attempt(r["id"], OLD) for r in (*old_final, old_open)]
        conn.execute(insert(delivery_attempts), attempts)
    watch = add_watch(engine, from_date=NOW, calls_at=(OLD, OLD + 1, NOW - DAY))
    purged = purge_until_empty(engine, CUTOFF)
    assert purged == {"deliveries": 2, "delivery_attempts": 2, "upstream_calls": 2}
    with read(engine) as conn:
        left = set(conn.execute(select(deliveries.c.id)).scalars())
        calls = conn.execute(select(upstream_calls.c.at).where(upstream_calls.c.run_id == watch))
        assert list(calls.scalars()) == [NOW - DAY]
    assert left == {old_open["id"], young["id"]}


def test_batches_are_bounded(services):
    engine = services.engine
    for _ in range(7):
        add_run(engine, OLD, targets=1)
    batches = []
    while purged := retention_repo.purge_batch(engine, CUTOFF, limit=3):
        batches.append(purged["runs"])
    assert batches == [3, 3, 1]
    assert counts(engine)["runs"] == 0


def test_purgers_side_by_side_each_take_their_own(services):
    """Several workers purge at once: every row goes once, none fails."""
    engine = services.engine
    for _ in range(40):
        add_run(engine, OLD, targets=2)
    totals: list[Counter] = []
    errors: list[BaseException] = []

    def purger():
        try:
            totals.append(purge_until_empty(engine, CUTOFF, limit=5))
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=purger) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sum(totals, Counter()) == {
        "runs": 40,
        "callbacks": 40,
        "upstream_calls": 80,
        "deliveries": 80,
        "delivery_attempts": 80,
    }


def test_zero_days_keeps_everything(make_app):
    _client, services = make_app({"RETENTION_DAYS": "0"})
    add_run(services.engine, OLD - 1000 * DAY)
    assert not MaintenanceLane(services, threading.Event()).enabled
    assert purge_step(services, now=NOW + 1000 * DAY) == {}
    assert counts(services.engine)["runs"] == 1


def test_a_run_through_the_relay_is_purged_once_past_the_window(make_app, sandbox, receiver):
    """A real run (submitted, polled, forwarded) and the lane's step: everything goes, and
    the purge is counted for /metrics."""
    client, services = make_app({"RETENTION_DAYS": "0.5"})
    sandbox.knobs(callback_drop=1.0, run_seconds=0)
    run_id = trigger(client, callback_url=receiver.url)

    def settled():
        poll_one(services, "test-worker")
        return run_row(services, run_id)["state"] == "succeeded"

    wait_for(settled, 20)
    assert deliver_one(services, "test-worker")
    assert receiver.wait_for(lambda got: len(got) == 1, 5)
    before = rows_of_run(services.engine, run_id)
    assert before["runs"] == 1 and before["deliveries"] == 1 and before["upstream_calls"] >= 2

    counted = PURGED.labels("runs")._value.get()
    assert purge_step(services) == {}  # still inside the window
    later = time.time() + DAY
    assert purge_step(services, now=later)["runs"] == 1
    assert set(rows_of_run(services.engine, run_id).values()) == {0}
    assert PURGED.labels("runs")._value.get() == counted + 1
    assert client.get(f"/v1/runs/{run_id}").status_code == 404


def test_the_lane_purges_on_its_own_and_stops_at_once(make_app):
    # A window of 0.0001 days (8.6 s): the lane looks every second.
    _client, services = make_app({"RETENTION_DAYS": "0.0001"})
    for _ in range(3):
        add_run(services.engine, time.time() - 60)
    young = add_run(services.engine, time.time())
    stop = threading.Event()
    thread = threading.Thread(target=MaintenanceLane(services, stop).run)
    thread.start()
    try:
        wait_for(lambda: counts(services.engine)["runs"] == 1, 10)
        assert rows_of_run(services.engine, young)["runs"] == 1
    finally:
        stop.set()
        started = time.monotonic()
        thread.join(5)
    assert not thread.is_alive() and time.monotonic() - started < 1.0


def test_purge_all_runs_batches_until_none_is_left(make_app):
    _client, services = make_app({"RETENTION_DAYS": "1"})
    for _ in range(3):
        add_run(services.engine, OLD, targets=1)
    stop = threading.Event()
    assert purge_all(services, stop)["runs"] == 3
    assert counts(services.engine)["runs"] == 0
    stop.set()
    add_run(services.engine, OLD, targets=1)
    assert purge_all(services, stop) == {}  # stopping: no batch starts
