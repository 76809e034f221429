"""Applying a result report (a callback or a poll answer) to a run: decide, then write."""

from __future__ import annotations

from app.runs.report_decisions import ReportDecision, ReportVerdict, decide_report
from app.runs.settle import apply_late_result, apply_settlement
from app.store import runs_repo


def apply_report(
    conn, run: dict, report: dict, raw: str, source: str, now: float, grace: float
) -> ReportVerdict:
    """Record what the report means for the run, in the caller's transaction; returns the verdict
    (see ReportVerdict)."""
    return apply_report_decision(
        conn, run, decide_report(run, report, raw, source, now, grace), now
    )


def apply_report_decision(conn, run: dict, decision: ReportDecision, now: float) -> ReportVerdict:
    """Write a decided report: settle the run, keep a late result, or move the run under the
    state guard, or nothing."""
    if decision.settlement is not None:
        moved = apply_settlement(conn, run, decision.settlement, now)
    elif decision.late is not None:
        moved = apply_late_result(conn, run, decision.late, now)
    elif decision.move_to is not None:
        moved = runs_repo.move_run(conn, run["id"], decision.move_to, **decision.values)
    else:
        return decision.verdict
    return decision.verdict_after(moved)
