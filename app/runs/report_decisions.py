"""What a result report (a callback or a poll answer) means for a run: a pure decision."""

from __future__ import annotations

import uuid
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
    DUPLICATE = "duplicate"  # the run already is in that state (or already has its late result)
    STALE = "stale"  # the run has moved past what the report says
    # A poll answer naming another upstream run: nothing written, polled again after the usual
    # back-off (a callback with such a body is refused with 409 before it is stored).
    RUN_MISMATCH = "run_mismatch"
    LATE = "late"  # a result after the run expired: stored, forwarded once as run.late_result


@dataclass(frozen=True)
class LateResult:
    """A result that came after its run expired: kept on the run, which stays expired."""

    target: RunState  # what the result says: SUCCEEDED or FAILED
    source: str  # callback | poll
    result_text: str


@dataclass(frozen=True)
class ReportDecision:
    """The verdict, and the one write (a guarded move or a settlement) that makes it true."""

    verdict: ReportVerdict
    move_to: RunState | None = None  # a guarded move with `values`; None: no move
    values: Mapping[str, object] = field(default_factory=dict)
    settlement: Settlement | None = None
    late: LateResult | None = None
    # The verdict when the guarded write finds the run moved on meanwhile: a settle or requeue
    # is then stale, a late result one that another report stored first; None: a `waiting`
    # move is only bookkeeping and keeps its verdict.
    if_not_moved: ReportVerdict | None = ReportVerdict.STALE

    def verdict_after(self, moved: bool) -> ReportVerdict:
        """The verdict once the write is done (`moved`: the guarded write took effect)."""
        if moved or self.if_not_moved is None:
            return self.verdict
        return self.if_not_moved


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


def foreign_run_id(run: dict, report: dict) -> str | None:
    """The report's `id` if it names another upstream run than `run`'s; None if it names this
    one or none (v2 results carry none), or the run has no upstream id yet."""
    reported = report.get("id")
    if reported is None or run["upstream_run_id"] is None:
        return None
    reported = str(reported)
    return None if _same_id(reported, run["upstream_run_id"]) else reported


def _same_id(one: str, other: str) -> bool:
    # A raw callback body's id is compared unparsed: "ABC-..." and "abc-..." are one UUID.
    try:
        return uuid.UUID(one) == uuid.UUID(other)
    except ValueError:
        return one == other


def decide_report(
    run: dict, report: dict, raw: str, source: str, now: float, grace: float
) -> ReportDecision:
    """What `report` means for `run` as read; never backwards, never twice.

    `grace` is CALLBACK_GRACE_SECONDS: a run reported waiting is polled after it at the latest.
    A result for an expired run is late: kept and forwarded once, the run stays expired.
    """
    if foreign_run_id(run, report) is not None:
        return ReportDecision(ReportVerdict.RUN_MISMATCH)
    target = state_for_status(report_status(run["kind"], report)) or RunState.FAILED
    current = RunState(run["state"])
    if target is RunState.WAITING:
        if current in (RunState.QUEUED, RunState.SUBMITTED):
            next_poll = run["next_poll_at"] if run["next_poll_at"] is not None else now + grace
            values = {"updated_at": now, "next_poll_at": next_poll}
            return ReportDecision(
                ReportVerdict.WAITING, RunState.WAITING, values, if_not_moved=None
            )
        return _unchanged(current is RunState.WAITING)
    if current is RunState.EXPIRED:
        return _late(run, target, source, raw)
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


def _late(run: dict, target: RunState, source: str, raw: str) -> ReportDecision:
    if run["result_json"] is not None:
        return ReportDecision(ReportVerdict.DUPLICATE)  # only the first late result counts
    late = LateResult(target, source, raw)
    return ReportDecision(ReportVerdict.LATE, late=late, if_not_moved=ReportVerdict.DUPLICATE)


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
