"""SQL for the worker's idle sleep: when the earliest timed upstream work comes due."""

from __future__ import annotations

from sqlalchemy import func, select

from app.runs.states import RunState
from app.store.tables import accounts, runs, zap_watches


def next_upstream_due_at(conn) -> float | None:
    """The earliest submission, poll or Zap watch scan that is scheduled; None: nothing is.

    Each is one indexed MIN, so an idle worker can ask before every sleep.
    """
    # The runs of an account whose token upstream refused wait for a new one (its PATCH rings
    # the wake-up), not for their due time: counted, they would keep idle threads spinning.
    held = select(accounts.c.id).where(accounts.c.state == "unauthorized")
    submit = select(func.min(runs.c.next_submit_at)).where(
        runs.c.state == RunState.QUEUED.value, runs.c.account_id.not_in(held)
    )
    poll = select(func.min(runs.c.next_poll_at)).where(
        runs.c.state.in_([RunState.SUBMITTED.value, RunState.WAITING.value]),
        runs.c.account_id.not_in(held),
    )
    watch = select(func.min(zap_watches.c.next_poll_at)).where(zap_watches.c.enabled.is_(True))
    times = [conn.execute(stmt).scalar() for stmt in (submit, poll, watch)]
    known = [t for t in times if t is not None]
    return min(known) if known else None
