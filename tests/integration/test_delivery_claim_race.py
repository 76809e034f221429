"""Two workers claiming the same due forward on PostgreSQL: the one that waited for the other's
lock must not take the row once the other has delivered and released it (an outside run saw
one forward sent twice with the same webhook-id, two workers 13-100 ms apart)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select, text, update

from app.store import deliveries_repo
from app.store.engine import build_engine
from app.store.schema_version import upgrade
from app.store.tables import deliveries
from tests.support.processes import wait_for


def test_a_claim_waiting_on_a_delivered_forward_does_not_take_it(postgres_url):
    upgrade(postgres_url)
    engine = build_engine(postgres_url, pool_size=4)
    now = time.time()
    with engine.begin() as conn:
        conn.execute(deliveries.insert().values(_pending("d1", now)))
    first = engine.connect()
    held = first.begin()
    claimed = {}

    def claim() -> None:
        claimed["B"] = deliveries_repo.claim_due_deliveries(
            engine, "B", time.time(), 30.0, 10, frozenset(), 10
        )

    other = threading.Thread(target=claim)
    try:
        # Worker A has claimed the forward (its transaction is still open)...
        lease = update(deliveries).where(deliveries.c.id == "d1")
        first.execute(lease.values(lease_until=now + 30))
        other.start()
        # ... worker B's claim saw it pending and free, and now waits for A's row lock.
        assert wait_for(lambda: _waiting_on_a_lock(engine), 10)
        # A sends it, gets a 2xx and releases it: delivered, lease free.
        first.execute(
            lease.values(state="delivered", attempts=1, lease_until=None, next_attempt_at=None)
        )
        held.commit()
    finally:
        if held.is_active:
            held.rollback()  # a step failed: let B through, so that the schema can go
        first.close()
        if other.ident is not None:  # started
            other.join(10)

    try:
        assert claimed["B"] == []
        with engine.connect() as conn:
            state = conn.execute(select(deliveries.c.state, deliveries.c.lease_owner)).one()
        assert tuple(state) == ("delivered", None)
    finally:
        engine.dispose()


def _pending(delivery_id: str, now: float) -> dict:
    return {
        "id": delivery_id,
        "target_url": "http://127.0.0.1:9/hook",
        "target_key": "url:hook",
        "event_id": "e1",
        "event_type": "run.succeeded",
        "body": "{}",
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now - 1,
        "created_at": now - 1,
        "requeue_requested": False,
    }


def _waiting_on_a_lock(engine) -> bool:
    """From a fresh transaction: pg_stat_activity is a snapshot taken once per transaction."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    with engine.connect() as conn:
        return conn.execute(query).scalar_one() > 0
