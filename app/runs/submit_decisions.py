"""What the answer to a run's submission means for it: a pure decision, written elsewhere."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.runs.states import RunState, Settlement
from app.upstream import outcomes as oc

SUBMIT_BASE_SECONDS = 2.0
SUBMIT_MAX_SECONDS = 300.0


@dataclass(frozen=True)
class SubmitDecision:
    """Accepted: a guarded move to submitted. Refused: a settlement. Otherwise: try again later."""

    move_to: RunState | None = None  # a guarded move with `values`; None: `values` written as is
    values: Mapping[str, object] = field(default_factory=dict)
    # Accepted, but a callback moved the run first: keep its state, only note the submission.
    if_moved_on: Mapping[str, object] = field(default_factory=dict)
    settlement: Settlement | None = None
    retry_in: float | None = None  # seconds until the next submission attempt


def decide_submission(
    run: dict, outcome: oc.UpstreamOutcome, now: float, *, poll_in: float | None = None
) -> SubmitDecision:
    """What the submission's `outcome` means for `run`; `poll_in` is the first poll's delay,
    needed when upstream accepted the run."""
    match outcome:
        case oc.Accepted(upstream_id=upstream_id):
            values = {
                "upstream_run_id": upstream_id,
                "submitted_at": now,
                "updated_at": now,
                "next_submit_at": None,
                "next_poll_at": now + poll_in,
                "submit_attempts": run["submit_attempts"] + 1,
                "reason": None,
            }
            noted = {"upstream_run_id": upstream_id, "submitted_at": now}
            return SubmitDecision(RunState.SUBMITTED, values, if_moved_on=noted)
        case oc.Refused(status=status, errors=errors):
            settlement = Settlement(
                RunState.REFUSED,
                reason=f"upstream refused the submission with HTTP {status}",
                errors=errors,
                values={"refusal_status": status, "refusal_json": json.dumps(errors)},
            )
            return SubmitDecision(settlement=settlement)
        case oc.Unauthorized(reason=reason, retry_in=retry_in):
            # Held, not failed: the claims skip an unauthorized account's runs until its
            # token is replaced, and its due time stays, so the run goes at once then.
            values = {"updated_at": now, "reason": reason}
            if retry_in is not None:
                values["next_submit_at"] = now + retry_in
            return SubmitDecision(values=values, retry_in=retry_in)
    wait, attempts = _retry_wait(outcome, run["submit_attempts"])
    values = {
        "next_submit_at": now + wait,
        "submit_attempts": attempts,
        "updated_at": now,
        "reason": _retry_reason(outcome),
    }
    return SubmitDecision(values=values, retry_in=wait)


def _retry_wait(outcome: oc.UpstreamOutcome, attempts: int) -> tuple[float, int]:
    match outcome:
        case oc.Deferred(wait=wait):
            return wait, attempts  # no call was made: not an attempt
        case oc.Throttled(retry_after=after) | oc.Unavailable(retry_after=after) if (
            after is not None
        ):
            return max(after, 0.0), attempts + 1
    return next_submit_delay(attempts), attempts + 1


def _retry_reason(outcome: oc.UpstreamOutcome) -> str:
    match outcome:
        case oc.Deferred():
            return "waiting for the shared upstream budget"
        case oc.TransportError(detail=detail):
            return f"upstream unreachable: {detail}"
    return f"upstream answered HTTP {outcome.status}; will retry"


def next_submit_delay(attempts: int) -> float:
    """Back-off between submission attempts: 2 s, 4 s, 8 s ... up to 5 minutes."""
    return min(SUBMIT_MAX_SECONDS, SUBMIT_BASE_SECONDS * 2 ** min(attempts, 20))
