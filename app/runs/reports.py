"""Applying a result report (a callback or a poll answer) to a run; never backwards, never twice."""

from __future__ import annotations

from app.runs.settle import settle
from app.runs.states import RunState, state_for_status
from app.store import runs_repo


def report_status(kind: str, report: dict) -> str:
    """The upstream status of a report; a v1 body may omit it (only `errors` is required)."""
    if kind == "action_run":
        return (report.get("data") or {}).get("status") or "error"
    status = report.get("status")
    if status:
        return status
    return "error" if report.get("errors") else "success"


def apply_report(conn, run: dict, report: dict, raw: str, source: str, now: float, grace: float):
    """Record what the report means for the run; returns the verdict.

    settled: the run is now final; waiting: upstream said it is still working; duplicate: the
    run already is in that state; stale: the run has moved past what the report says.
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
    settled = settle(conn, run, target, now, source=source, result_text=raw)
    return "settled" if settled else "stale"
