"""SQL for /metrics: counts by state, source, verdict, outcome and status, read at scrape time."""

from __future__ import annotations

from sqlalchemy import func, select

from app.runs.states import OPEN_STATES
from app.store.tables import callbacks, deliveries, delivery_attempts, runs, upstream_calls


def store_counts(conn) -> dict:
    """Every count /metrics shows from the store, in one read transaction."""
    by_state = dict(conn.execute(select(runs.c.state, func.count()).group_by(runs.c.state)).all())
    by_source = conn.execute(
        select(runs.c.source, func.count())
        .where(runs.c.source.is_not(None))
        .group_by(runs.c.source)
    ).all()
    oldest_open = conn.execute(
        select(func.min(runs.c.created_at)).where(runs.c.state.in_(list(OPEN_STATES)))
    ).scalar()
    verdicts = conn.execute(
        select(callbacks.c.verdict, func.count()).group_by(callbacks.c.verdict)
    ).all()
    calls = conn.execute(
        select(upstream_calls.c.operation, upstream_calls.c.outcome, func.count()).group_by(
            upstream_calls.c.operation, upstream_calls.c.outcome
        )
    ).all()
    attempts = conn.execute(
        select(delivery_attempts.c.status, func.count()).group_by(delivery_attempts.c.status)
    ).all()
    pending = conn.execute(
        select(func.count()).select_from(deliveries).where(deliveries.c.state == "pending")
    ).scalar_one()
    return {
        "runs_by_state": by_state,
        "settled_by_source": by_source,
        "oldest_open_created_at": oldest_open,
        "callback_verdicts": verdicts,
        "upstream_calls": calls,
        "attempts_by_status": attempts,
        "deliveries_pending": pending,
    }
