"""SQL for deliveries and their attempts."""

from __future__ import annotations

from sqlalchemy import and_, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.delivery.states import DeliveryState
from app.store.leases import claim_one, release
from app.store.tables import deliveries, delivery_attempts
from app.store.wakeup import notify_work

# A delivery that already exists (same subject, target and event) is skipped by the database
# itself: no SAVEPOINT and no IntegrityError round trip, and PostgreSQL's transaction stays usable.
_INSERT_NEW = {
    "sqlite": sqlite.insert(deliveries).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(deliveries).on_conflict_do_nothing(),
}


def insert_deliveries(conn, rows: list[dict]) -> int:
    """Insert the rows that are new (never two deliveries of one event to one target)."""
    statement = _INSERT_NEW[conn.dialect.name]
    created = sum(conn.execute(statement, row).rowcount for row in rows)
    if created:
        notify_work(conn)
    return created


def insert_delivery(conn, values: dict) -> bool:
    """False when this subject already has this event for this target."""
    return insert_deliveries(conn, [values]) == 1


def claim_due_delivery(engine, owner: str, now: float, lease: float) -> dict | None:
    due = and_(deliveries.c.state == DeliveryState.PENDING, deliveries.c.next_attempt_at <= now)
    return claim_one(engine, deliveries, due, deliveries.c.next_attempt_at, owner, now, lease)


def release_delivery(conn, delivery_id: str, owner: str, **values) -> bool:
    """Write an attempt's outcome and free the delivery, if `owner` still holds it."""
    return release(conn, deliveries, delivery_id, owner, **values)


def record_attempt(conn, values: dict) -> None:
    conn.execute(insert(delivery_attempts).values(**values))


def deliveries_of(conn, run_id: str) -> list[dict]:
    stmt = select(deliveries).where(deliveries.c.run_id == run_id).order_by(deliveries.c.created_at)
    return [dict(row) for row in conn.execute(stmt).mappings()]


def attempts_of(conn, delivery_ids: list[str]) -> list[dict]:
    if not delivery_ids:
        return []
    stmt = (
        select(delivery_attempts)
        .where(delivery_attempts.c.delivery_id.in_(delivery_ids))
        .order_by(delivery_attempts.c.id)
    )
    return [dict(row) for row in conn.execute(stmt).mappings()]


def requeue_run_deliveries(conn, run_id: str, now: float) -> int:
    """Redeliver: the same events (same webhook-id), a fresh series of attempts."""
    stmt = (
        update(deliveries)
        .where(deliveries.c.run_id == run_id)
        .values(
            state=DeliveryState.PENDING,
            attempts=0,
            next_attempt_at=now,
            lease_until=None,
            lease_owner=None,
        )
    )
    notify_work(conn)
    return conn.execute(stmt).rowcount
