"""Run kinds and states, the terminal ones named, every allowed transition, and settlements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class RunKind(StrEnum):
    """Which upstream API a run goes to."""

    STORED_ACTION = "stored_action"  # Actions API v1: calls back, then polled if late
    ACTION_RUN = "action_run"  # Partner API v2 action runs: polled (callbacks optional)


class RunState(StrEnum):
    QUEUED = "queued"  # stored, not yet accepted upstream
    SUBMITTED = "submitted"  # accepted upstream, no report yet
    WAITING = "waiting"  # upstream reported status "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUSED = "refused"  # upstream answered the submission with a 4xx

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.EXPIRED, RunState.REFUSED})
OPEN_STATES = frozenset(RunState) - FINAL_STATES

ALLOWED = {
    RunState.QUEUED: frozenset(
        {
            RunState.SUBMITTED,
            RunState.WAITING,
            RunState.SUCCEEDED,
            RunState.FAILED,
            RunState.EXPIRED,
            RunState.REFUSED,
        }
    ),
    # Back to QUEUED only when a v2 run's result says `throttled` with a delay: resubmit.
    RunState.SUBMITTED: frozenset(
        {RunState.QUEUED, RunState.WAITING, RunState.SUCCEEDED, RunState.FAILED, RunState.EXPIRED}
    ),
    RunState.WAITING: frozenset(
        {RunState.QUEUED, RunState.SUCCEEDED, RunState.FAILED, RunState.EXPIRED}
    ),
    RunState.SUCCEEDED: frozenset(),
    RunState.FAILED: frozenset(),
    RunState.EXPIRED: frozenset(),
    RunState.REFUSED: frozenset(),
}

# Forward event type per final state (refused runs forward only when refused after queueing).
EVENT_TYPES = {
    RunState.SUCCEEDED: "run.succeeded",
    RunState.FAILED: "run.failed",
    RunState.REFUSED: "run.failed",
    RunState.EXPIRED: "run.expired",
}
# A result that came after its run expired, forwarded once; the run stays expired.
LATE_RESULT_EVENT = "run.late_result"


@dataclass(frozen=True)
class Settlement:
    """A decided move to a final state: what the run and its forward event will say."""

    target: RunState
    source: str | None = None  # "callback" or "poll" when a result report settles the run
    result_text: str | None = None  # upstream's result body, as received
    reason: str | None = None
    errors: list | None = None
    values: Mapping[str, object] = field(default_factory=dict)  # further columns to write


def can_move(current: RunState | str, target: RunState | str) -> bool:
    """True when `current` may become `target`; a report never moves a run backwards."""
    return RunState(target) in ALLOWED[RunState(current)]


def sources_for(target: RunState | str) -> tuple[str, ...]:
    """The states from which `target` may be reached (for guarded UPDATE ... WHERE state IN)."""
    target = RunState(target)
    return tuple(state.value for state, nexts in ALLOWED.items() if target in nexts)


def state_for_status(status: str | None) -> RunState | None:
    """The run state an upstream result `status` leads to (None: not a usable report)."""
    return {
        "success": RunState.SUCCEEDED,
        "error": RunState.FAILED,
        "waiting": RunState.WAITING,
    }.get(status or "")
