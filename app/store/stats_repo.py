"""SQL for /metrics: the open work only (indexed, bounded), never a scan of the history."""

from __future__ import annotations

from sqlalchemy import case, func, select

from app.delivery.states import DeliveryState
from app.runs.states import OPEN_STATES, RunState
from app.store.tables import deliveries, runs


def open_work(conn) -> dict:
    """Open runs by state, the oldest open run, pending deliveries: cost grows with the open
    work (what the gauges describe), not with the runs and attempts kept for history."""
    open_states = sorted(state.value for state in OPEN_STATES)
    by_state = dict(
        conn.execute(
            select(runs.c.state, func.count())
            .where(runs.c.state.in_(open_states))
            .group_by(runs.c.state)
        ).all()
    )
    oldest_open = conn.execute(
        select(func.min(runs.c.created_at)).where(runs.c.state.in_(open_states))
    ).scalar()
    pending = conn.execute(
        select(func.count())
        .select_from(deliveries)
        .where(deliveries.c.state == DeliveryState.PENDING)
    ).scalar_one()
    return {"open_by_state": by_state, "oldest_open_created_at": oldest_open, "pending": pending}


def poll_load(conn, now: float) -> dict[str, dict]:
    """Per account with runs awaiting a poll: how many (`open`), how many are due now (`due`)
    and since when the earliest due one has waited (`first_due_at`)."""
    polled = (RunState.SUBMITTED.value, RunState.WAITING.value)
    due = runs.c.next_poll_at <= now
    rows = conn.execute(
        select(
            runs.c.account_id,
            func.count(),
            func.sum(case((due, 1), else_=0)),
            func.min(case((due, runs.c.next_poll_at))),
        )
        .where(runs.c.state.in_(polled))
        .group_by(runs.c.account_id)
    ).all()
    return {
        account: {"open": count, "due": int(due_count or 0), "first_due_at": first}
        for account, count, due_count, first in rows
    }
