"""Where a run's polls go: where its result has become likely, learned from its action's runs.

The rule, as the README gives it: the next poll goes where the chance that the result arrived
since the last poll reaches READY_CHANCE (one in three), by the durations of the action's
recent runs. Past the longest duration seen, the gap doubles. With too little history, the
fixed back-off (5 s six times, then doubling). Never longer than POLL_MAX_INTERVAL_SECONDS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.runs.duration_estimate import DurationEstimate
from app.runs.poll_schedule import POLL_BASE_SECONDS, next_poll_delay

# The chance that a poll finds the result, at which polls are placed: lower spends more GETs
# for earlier results. bench/polling.py sweeps it for the trade-off curve.
READY_CHANCE = 1 / 3
# Fewer ended runs than this: the fixed back-off.
MIN_ENDED = 10
# No two polls of a run closer than this, whatever the history says.
MIN_GAP_SECONDS = 1.0


@dataclass(frozen=True)
class PollPlan:
    """One action's schedule; `durations` None: too little history, the fixed back-off."""

    durations: DurationEstimate | None
    cap: float  # POLL_MAX_INTERVAL_SECONDS

    @property
    def learned(self) -> bool:
        return self.durations is not None

    def first_delay(self) -> float:
        """Seconds from submission to the first poll (callbacks off, or no grace)."""
        return self.next_delay(0.0, 0)

    def next_delay(self, age: float, polls: int) -> float:
        """Seconds from a poll at `age` (seconds since submission), the `polls`-th, to the next."""
        if self.durations is None:
            return next_poll_delay(polls, self.cap)
        ended = self.durations.share_by(age)
        due_age = self.durations.age_of_share(ended + READY_CHANCE * (1.0 - ended))
        if due_age is None or due_age <= age:
            # Longer than any run seen: the gap doubles with the age.
            return min(self.cap, max(POLL_BASE_SECONDS, age))
        return min(self.cap, max(MIN_GAP_SECONDS, due_age - age))


def plan_for(durations: DurationEstimate | None, cap: float) -> PollPlan:
    """The learned plan once MIN_ENDED runs have ended, else the fixed back-off."""
    if durations is None or durations.ended < MIN_ENDED:
        return PollPlan(None, cap)
    return PollPlan(durations, cap)


def shortfall(open_runs: int, limit: int | None, window: float, cap: float) -> int:
    """Polls per window the GET budget (`limit`, None: exempt) cannot cover, to poll each of
    `open_runs` runs at least every `cap` seconds; 0: covered. Then every run waits its
    turn in line (its fair share), and this number says how far the budget falls short."""
    if limit is None:
        return 0
    needed = open_runs * max(1, math.ceil(window / cap))
    return max(0, needed - limit)
