"""SQL for the worker's idle sleep: when the earliest timed upstream work can be done."""

from __future__ import annotations

import time

from sqlalchemy import case, func, select

from app.runs.states import RunState
from app.store.tables import accounts, rate_budget, runs, zap_watches

OPEN_POLLED = (RunState.SUBMITTED.value, RunState.WAITING.value)


def next_upstream_due_at(conn, now: float | None = None) -> float | None:
    """The earliest submission, poll or Zap watch scan that can be done; None: nothing is.

    A poll can be done once it is due, its run is not held back (a lease), and its account's
    GET budget grants a call (not spent, blocked or paced): an idle worker sleeps until then.
    """
    now = time.time() if now is None else now
    # The runs of an account whose token upstream refused wait for a new one (its PATCH rings
    # the wake-up), not for their due time: counted, they would keep idle threads spinning.
    held = select(accounts.c.id).where(accounts.c.state == "unauthorized")
    submit = select(func.min(runs.c.next_submit_at)).where(
        runs.c.state == RunState.QUEUED.value, runs.c.account_id.not_in(held)
    )
    watch = select(func.min(zap_watches.c.next_poll_at)).where(zap_watches.c.enabled.is_(True))
    times = [conn.execute(stmt).scalar() for stmt in (submit, watch)]
    times.append(_next_poll_at(conn, held, now))
    known = [t for t in times if t is not None]
    return min(known) if known else None


def _next_poll_at(conn, held, now: float) -> float | None:
    """Per account, its first poll once its lease is out, then not before its budget opens."""
    ready = case(
        (runs.c.lease_until > runs.c.next_poll_at, runs.c.lease_until), else_=runs.c.next_poll_at
    )
    first = conn.execute(
        select(runs.c.account_id, func.min(ready))
        .where(runs.c.state.in_(OPEN_POLLED), runs.c.account_id.not_in(held))
        .group_by(runs.c.account_id)
    ).all()
    if not first:
        return None
    opens = _budget_opens(conn, now)
    return min(max(due, opens.get(f"{account}/get", 0.0)) for account, due in first)


def _budget_opens(conn, now: float) -> dict[str, float]:
    """When each GET budget grants its next call (see app/upstream/budget_windows.grant)."""
    opens = {}
    rows = conn.execute(select(rate_budget).where(rate_budget.c.bucket.like("%/get")))
    for row in rows:
        at = max(row.blocked_until, row.paced_until)
        if row.window_end > now and 0 <= row.limit <= row.used:
            at = max(at, row.window_end)
        opens[row.bucket] = at
    return opens


def due_poll_count(conn, account: str, now: float) -> int:
    """The account's polls due now: the backlog its GET budget is paced against."""
    query = select(func.count()).where(
        runs.c.account_id == account,
        runs.c.state.in_(OPEN_POLLED),
        runs.c.next_poll_at <= now,
    )
    return conn.execute(query).scalar_one()
