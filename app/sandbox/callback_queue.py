"""The pending-callback queue: atomic claims with a lease, attempt records and counts (SQL only)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, case, exists, func, or_, select, update

from app.sandbox.tables import callbacks


@dataclass(frozen=True)
class ClaimedCallback:
    id: int
    run_id: str
    url: str
    body: str
    attempts: int  # including the one about to be made


def _claimable(table, now: float):
    return and_(
        table.c.state == "pending",
        table.c.due_at <= now,
        or_(table.c.lease_until.is_(None), table.c.lease_until < now),
    )


def _due_ids(now: float):
    """Due, unleased callbacks whose earlier siblings are all settled: a run's callbacks
    leave strictly in `seq` order even when several threads or processes send."""
    candidate = callbacks.alias("candidate")
    earlier = callbacks.alias("earlier")
    blocked = exists().where(
        earlier.c.run_id == candidate.c.run_id,
        earlier.c.seq < candidate.c.seq,
        earlier.c.state == "pending",
    )
    return (
        select(candidate.c.id)
        .where(_claimable(candidate, now), ~blocked)
        .order_by(candidate.c.due_at, candidate.c.id)
        .limit(1)
    )


def any_due(conn: Connection, now: float) -> bool:
    """A cheap read, so an idle dispatcher never takes the write lock."""
    return conn.execute(_due_ids(now)).first() is not None


def next_due_at(conn: Connection) -> float | None:
    """When the earliest pending callback comes due (or its lease lapses); None: none pending."""
    due = func.max(callbacks.c.due_at, func.coalesce(callbacks.c.lease_until, 0.0))
    if conn.dialect.name != "sqlite":
        due = func.greatest(callbacks.c.due_at, func.coalesce(callbacks.c.lease_until, 0.0))
    stmt = select(func.min(due)).where(callbacks.c.state == "pending")
    return conn.execute(stmt).scalar()


def claim_due(
    conn: Connection, owner: str, now: float, lease_seconds: float
) -> ClaimedCallback | None:
    """Lease one due callback to `owner`; the repeated conditions make a racing claim of the
    same row update nothing (PostgreSQL re-checks them on the locked row)."""
    pick = _due_ids(now).with_for_update(skip_locked=True).scalar_subquery()
    stmt = (
        update(callbacks)
        .where(callbacks.c.id == pick, _claimable(callbacks, now))
        .values(
            claimed_by=owner, lease_until=now + lease_seconds, attempts=callbacks.c.attempts + 1
        )
        .returning(
            callbacks.c.id,
            callbacks.c.run_id,
            callbacks.c.url,
            callbacks.c.body,
            callbacks.c.attempts,
        )
    )
    row = conn.execute(stmt).first()
    return ClaimedCallback(*row) if row else None


def record_attempt(
    conn: Connection,
    callback_id: int,
    owner: str,
    *,
    state: str,
    status: int | None,
    error: str | None,
    now: float,
    retry_at: float | None = None,
) -> None:
    """Settle the attempt: `sent`, `failed`, or back to `pending` until `retry_at`."""
    failed = 0 if state == "sent" else 1
    conn.execute(
        update(callbacks)
        .where(callbacks.c.id == callback_id, callbacks.c.claimed_by == owner)
        .values(
            state=state,
            last_status=status,
            last_error=error,
            failed_attempts=callbacks.c.failed_attempts + failed,
            due_at=retry_at if retry_at is not None else callbacks.c.due_at,
            lease_until=None,
            sent_at=now if state == "sent" else None,
        )
    )


def callback_counts(conn: Connection) -> dict[str, int]:
    """Totals for the stats endpoint: callbacks by state, duplicates, attempts."""
    row = conn.execute(
        select(
            *(
                func.coalesce(func.sum(case((callbacks.c.state == s, 1), else_=0)), 0).label(s)
                for s in ("pending", "sent", "failed", "dropped")
            ),
            func.coalesce(func.sum(case((callbacks.c.duplicate, 1), else_=0)), 0).label("dup"),
            func.coalesce(func.sum(callbacks.c.attempts), 0).label("attempts"),
            func.coalesce(func.sum(callbacks.c.failed_attempts), 0).label("failed_attempts"),
        )
    ).one()
    return {
        "pending": row.pending,
        "sent": row.sent,
        "failed": row.failed,
        "dropped": row.dropped,
        "duplicated": row.dup,
        "attempts": row.attempts,
        "failed_attempts": row.failed_attempts,
    }
