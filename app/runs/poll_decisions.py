"""What one poll's answer (or a run's age) means for a run: pure decisions, written elsewhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from app.runs.poll_plan import PollPlan
from app.runs.report_decisions import ReportDecision, ReportVerdict, decide_report
from app.runs.states import RunState, Settlement
from app.upstream import outcomes as oc

# The reason of a run whose account's token upstream refused (app/upstream/gateway.py).
HELD_REASON_PREFIX = "account "
# A run upstream answers 404 for this many polls in a row is failed.
NOT_FOUND_LIMIT = 3
# A settled (or expired) run is never polled again; a requeued one is polled once resubmitted.
STOPS_POLLING = frozenset({ReportVerdict.SETTLED, ReportVerdict.THROTTLED, ReportVerdict.LATE})
# A poll answer refused or come late: its upstream call shows that verdict in the timeline.
SHOWN_ON_THE_CALL = frozenset({ReportVerdict.RUN_MISMATCH, ReportVerdict.LATE})
# Past RUN_MAX_AGE_SECONDS, a last poll upstream did not answer (the budget, 429, 5xx, no
# connection) is retried as usual for this many POLL_MAX_INTERVAL_SECONDS; then the run expires.
UNANSWERED_LAST_POLL_INTERVALS = 10


class PollVerdict(StrEnum):
    """What a poll that brought no result report did (a result's verdict is a ReportVerdict)."""

    NOT_FOUND = "not_found"  # a 404, counted; polled again after a back-off
    FAILED_NOT_FOUND = "failed_not_found"  # the NOT_FOUND_LIMIT-th 404: the run failed
    REFUSED = "refused"  # another 4xx: the run failed
    # No answer to act on yet: polled again after Retry-After, the budget's wait or a back-off.
    PROCESSING = "processing"
    THROTTLED = "throttled"  # upstream's 429, not a throttled run (that is ReportVerdict's)
    UNAVAILABLE = "unavailable"
    TRANSPORT_ERROR = "transport_error"
    DEFERRED = "deferred"  # the shared budget refused: no call was made, not counted as a poll
    # The account's token was refused: polled again, not counted, once the token is replaced.
    HELD = "held"


@dataclass(frozen=True)
class PollDecision:
    """A result report to apply, or a verdict (with a settlement for a failed run); then the
    columns written last in the same transaction, then the expiry of a run too old."""

    verdict: PollVerdict | None  # None: the report's verdict is the poll's
    values: Mapping[str, object]  # always written last: poll count, lease released, next poll
    report: ReportDecision | None = None
    settlement: Settlement | None = None
    next_poll_at: float | None = None  # after a report: unless it settled or requeued the run
    expiry: Settlement | None = None  # the run is too old: expired if this poll left it open

    def values_after(self, report_verdict: ReportVerdict | None = None) -> dict:
        """The columns to write last, once the report (if any) has its verdict."""
        if self.report is not None and report_verdict not in STOPS_POLLING:
            return {**self.values, "next_poll_at": self.next_poll_at}
        if self.report is not None:
            # The report settled or requeued the run and wrote its own reason.
            return {k: v for k, v in self.values.items() if k != "reason"}
        return dict(self.values)


def decide_poll(
    run: dict,
    outcome: oc.UpstreamOutcome,
    now: float,
    *,
    poll_count: int,
    grace: float,
    cap: float,
    max_age: float,
    plan: PollPlan | None = None,
) -> PollDecision:
    """What the poll's `outcome` means for `run` (as read in the write transaction).

    `poll_count` is the polls counted when the run was claimed; `grace` CALLBACK_GRACE_SECONDS,
    `cap` POLL_MAX_INTERVAL_SECONDS and `max_age` RUN_MAX_AGE_SECONDS; `plan` places the next
    poll (None: the fixed back-off).
    """
    plan = plan or PollPlan(None, cap)
    age = now - (run.get("submitted_at") or run["created_at"])
    decision = _decide_poll(
        run, outcome, now, poll_count, grace, lambda polls: plan.next_delay(age, polls)
    )
    report = decision.report
    # A poll that settles the run, or brings the late result of an expired one, ends it.
    if decision.settlement is not None or (
        report is not None and (report.settlement is not None or report.late is not None)
    ):
        return decision
    # A held account's run is given up at RUN_MAX_AGE_SECONDS like one upstream answered: its
    # result cannot be had until the token is replaced, and that may never happen.
    answered = (_answered(outcome) or isinstance(outcome, oc.Unauthorized)) and (
        report is None or report.verdict in _ABOUT_THIS_RUN
    )
    expiry = decide_expiry(run, now, max_age, answered=answered, cap=cap)
    return replace(decision, expiry=expiry)


def _decide_poll(run, outcome, now, poll_count, grace, later) -> PollDecision:
    polls = poll_count + (0 if isinstance(outcome, oc.Deferred | oc.Unauthorized) else 1)
    values = {"poll_count": polls, "updated_at": now, "lease_until": None, "lease_owner": None}
    if (run.get("reason") or "").startswith(HELD_REASON_PREFIX):
        values["reason"] = None  # its account's token was replaced: no longer held
    match outcome:
        case oc.Unauthorized(reason=reason, retry_in=retry_in):
            # next_poll_at stays as it was: the run is polled as soon as the claims take it.
            values["reason"] = reason
            if retry_in is not None:
                values["next_poll_at"] = now + retry_in
            return PollDecision(PollVerdict.HELD, values)
        case oc.Result(body=body, raw=raw):
            report = decide_report(run, body, raw, "poll", now, grace)
            after = now + later(polls)
            return PollDecision(None, values, report=report, next_poll_at=after)
        case oc.NotFound():
            return _not_found(run, now, values, later)
        case oc.Refused(status=status, errors=errors):
            reason = f"upstream refused the poll with HTTP {status}"
            settlement = Settlement(RunState.FAILED, reason=reason, errors=errors)
            values.pop("reason", None)  # written after the settlement: keep its reason
            return PollDecision(PollVerdict.REFUSED, values, settlement=settlement)
    if isinstance(outcome, oc.Deferred):
        # No call was made: the run keeps its place in line (next_poll_at), held back until
        # the budget can grant a call, so no claimer takes it up only to put it back.
        values["lease_until"] = now + outcome.wait
        return PollDecision(PollVerdict.DEFERRED, values)
    if isinstance(outcome, oc.Processing):
        values["last_pending_at"] = now  # its result came later: a duration's lower bound
    wait = _retry_wait(outcome)
    values["next_poll_at"] = now + (wait if wait is not None else later(polls))
    return PollDecision(PollVerdict(outcome.kind), values)


def _not_found(run: dict, now: float, values: dict, later) -> PollDecision:
    misses = run["not_found_count"] + 1
    values["not_found_count"] = misses
    if misses < NOT_FOUND_LIMIT:
        values["next_poll_at"] = now + later(misses)
        return PollDecision(PollVerdict.NOT_FOUND, values)
    values.pop("reason", None)  # written after the settlement: keep its reason
    reason = f"upstream answered 404 for run {run['upstream_run_id']} {misses} times"
    settlement = Settlement(RunState.FAILED, reason=reason, errors=[])
    return PollDecision(PollVerdict.FAILED_NOT_FOUND, values, settlement=settlement)


def _retry_wait(outcome: oc.UpstreamOutcome) -> float | None:
    """Seconds upstream (Retry-After) or the budget asked for; None: back off as usual."""
    match outcome:
        # A Retry-After of 0 says nothing useful: back off instead of polling at once.
        case oc.Throttled(retry_after=after) | oc.Unavailable(retry_after=after) if after:
            return after
    return None


# Results that tell something about this run (a foreign id tells nothing).
_ABOUT_THIS_RUN = frozenset(ReportVerdict) - {ReportVerdict.RUN_MISMATCH}


def _answered(outcome: oc.UpstreamOutcome) -> bool:
    """Whether upstream answered about the run: a result, still processing, a 404 or a 4xx."""
    match outcome:
        case oc.Result() | oc.Processing() | oc.NotFound() | oc.Refused():
            return True
    return False


def decide_expiry(
    run: dict, now: float, max_age: float, *, answered: bool = False, cap: float = 0.0
) -> Settlement | None:
    """Past RUN_MAX_AGE_SECONDS (`max_age`) a run is given up (run.expired), its lease released,
    but never while upstream may hold its result.

    A run upstream accepted expires only right after a last poll upstream `answered` without a
    result for it; while those polls go unanswered, for UNANSWERED_LAST_POLL_INTERVALS x `cap`
    (POLL_MAX_INTERVAL_SECONDS) at most. A queued run upstream never accepted expires unpolled.
    """
    age = now - run["created_at"]
    if age < max_age:
        return None
    unanswered_for_long = age >= max_age + UNANSWERED_LAST_POLL_INTERVALS * cap
    if run["upstream_run_id"] is not None and not answered and not unanswered_for_long:
        return None
    return Settlement(
        RunState.EXPIRED,
        reason="no result within RUN_MAX_AGE_SECONDS",
        values={"lease_until": None, "lease_owner": None},
    )
