"""What a result report (a callback or a poll answer) means for a run: a pure decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from app.runs.states import RunKind, RunState, Settlement, state_for_status

THROTTLE_CODES = ("throttled", "system_throttled")
# A run upstream keeps throttling is forwarded as failed after this many resubmissions.
THROTTLE_RETRY_LIMIT = 5


class ReportVerdict(StrEnum):
    """What a report did to its run (stored with each callback, counted in /metrics)."""

    SETTLED = "settled"  # the run is now final
    WAITING = "waiting"  # upstream said it is still working
    THROTTLED = "throttled"  # a v2 run was throttled and is queued again after its `delay`
    DUPLICATE = "duplicate"  # the run already is in that state
    STALE = "stale"  # the run has moved past what the report says


@dataclass(frozen=True)
class ReportDecision:
    """The verdict, and the one write (a guarded move or a settlement) that makes it true."""

    verdict: ReportVerdict
    move_to: RunState | None = None  # a guarded move with `values`; None: no move
    values: Mapping[str, object] = field(default_factory=dict)
    settlement: Settlement | None = None
    # A settle or requeue that finds the run moved on meanwhile makes the report stale; a
    # `waiting` move is only bookkeeping and keeps its verdict.
    stale_if_moved_on: bool = True

    def verdict_after(self, moved: bool) -> ReportVerdict:
        """The verdict once the write is done (`moved`: the guarded write took effect)."""
        if moved or not self.stale_if_moved_on:
            return self.verdict
        return ReportVerdict.STALE


def report_status(kind: str, report: dict) -> str:
    """The upstream status of a report; a v1 body may omit it (only `errors` is required)."""
    if kind == RunKind.ACTION_RUN:
        return (report.get("data") or {}).get("status") or "error"
    status = report.get("status")
    if status:
        return status
    return "error" if report.get("errors") else "success"


def throttle_delay(kind: str, report: dict) -> float | None:
    """Seconds a v2 run's `throttled` error asks us to wait before running it again, if any.

    Only v2: a v1 resubmission reuses the idempotency_id and would get the throttled run back.
    """
    if kind != RunKind.ACTION_RUN:
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


def decide_report(
    run: dict, report: dict, raw: str, source: str, now: float, grace: float
) -> ReportDecision:
    """What `report` means for `run` as read; never backwards, never twice.

    `grace` is CALLBACK_GRACE_SECONDS: a run reported waiting is polled after it at the latest.
    """
    target = state_for_status(report_status(run["kind"], report)) or RunState.FAILED
    current = RunState(run["state"])
    if target is RunState.WAITING:
        if current in (RunState.QUEUED, RunState.SUBMITTED):
            next_poll = run["next_poll_at"] if run["next_poll_at"] is not None else now + grace
            values = {"updated_at": now, "next_poll_at": next_poll}
            return ReportDecision(
                ReportVerdict.WAITING, RunState.WAITING, values, stale_if_moved_on=False
            )
        return _unchanged(current is RunState.WAITING)
    if current.is_final:
        return _unchanged(current is target)
    delay = throttle_delay(run["kind"], report)
    if delay is not None and run["throttle_count"] < THROTTLE_RETRY_LIMIT:
        if current is RunState.QUEUED:
            # Already waiting out a throttle (or never accepted): nothing to do.
            return ReportDecision(ReportVerdict.STALE)
        return _requeue_throttled(run, delay, now)
    settlement = Settlement(target, source=source, result_text=raw)
    return ReportDecision(ReportVerdict.SETTLED, settlement=settlement)


def _unchanged(duplicate: bool) -> ReportDecision:
    return ReportDecision(ReportVerdict.DUPLICATE if duplicate else ReportVerdict.STALE)


def _requeue_throttled(run: dict, delay: float, now: float) -> ReportDecision:
    count = run["throttle_count"] + 1
    values = {
        "upstream_run_id": None,
        "next_poll_at": None,
        "next_submit_at": now + delay,
        "throttle_count": count,
        "updated_at": now,
        "reason": f"upstream throttled the run; resubmitting after {delay:g}s (throttle {count})",
    }
    return ReportDecision(ReportVerdict.THROTTLED, RunState.QUEUED, values)
