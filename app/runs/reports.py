"""Applying a result report (a callback or a poll answer) to a run; never backwards, never twice."""

from __future__ import annotations

from app.runs.settle import settle
from app.runs.states import RunState, state_for_status
from app.store import runs_repo

THROTTLE_CODES = ("throttled", "system_throttled")
# A run upstream keeps throttling is forwarded as failed after this many resubmissions.
THROTTLE_RETRY_LIMIT = 5


def report_status(kind: str, report: dict) -> str:
    """The upstream status of a report; a v1 body may omit it (only `errors` is required)."""
    if kind == "action_run":
        return (report.get("data") or {}).get("status") or "error"
    status = report.get("status")
    if status:
        return status
    return "error" if report.get("errors") else "success"


def throttle_delay(kind: str, report: dict) -> float | None:
    """Seconds a v2 run's `throttled` error asks us to wait before running it again, if any.

    Only v2: a v1 resubmission reuses the idempotency_id and would get the throttled run back.
    """
    if kind != "action_run":
        return None
    data = report.get("data") or {}
    if data.get("status") != "error":
        return None
    delays = [
        error.get("delay")
        for error in data.get("errors") or []
        if isinstance(error, dict) and error.get("code") in THROTTLE_CODES
    ]
    delays = [d for d in delays if isinstance(d, int | float) and not isinstance(d, bool)]
    return float(max(0, *delays)) if delays else None


def _requeue_throttled(conn, run: dict, delay: float, now: float) -> str:
    count = run["throttle_count"] + 1
    moved = runs_repo.move_run(
        conn,
        run["id"],
        RunState.QUEUED,
        upstream_run_id=None,
        next_poll_at=None,
        next_submit_at=now + delay,
        throttle_count=count,
        updated_at=now,
        reason=f"upstream throttled the run; resubmitting after {delay:g}s (throttle {count})",
    )
    return "throttled" if moved else "stale"


def apply_report(conn, run: dict, report: dict, raw: str, source: str, now: float, grace: float):
    """Record what the report means for the run; returns the verdict.

    settled: the run is now final; waiting: upstream said it is still working; throttled: a v2
    run was throttled and is queued again after its `delay`; duplicate: the run already is in
    that state; stale: the run has moved past what the report says.
    """
    target = state_for_status(report_status(run["kind"], report)) or RunState.FAILED
    current = RunState(run["state"])
    if target is RunState.WAITING:
        if current in (RunState.QUEUED, RunState.SUBMITTED):
            next_poll = run["next_poll_at"] if run["next_poll_at"] is not None else now + grace
            runs_repo.move_run(
                conn, run["id"], RunState.WAITING, updated_at=now, next_poll_at=next_poll
            )
            return "waiting"
        return "duplicate" if current is RunState.WAITING else "stale"
    if current.is_final:
        return "duplicate" if current is target else "stale"
    delay = throttle_delay(run["kind"], report)
    if delay is not None and run["throttle_count"] < THROTTLE_RETRY_LIMIT:
        if current is RunState.QUEUED:
            return "stale"  # already waiting out a throttle (or never accepted): nothing to do
        return _requeue_throttled(conn, run, delay, now)
    settled = settle(conn, run, target, now, source=source, result_text=raw)
    return "settled" if settled else "stale"
