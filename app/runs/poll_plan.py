"""Where a run's polls go: where a poll saves more waiting than a GET is worth, learned from
its action's runs.

The rule, as the README gives it: the next poll goes where the waiting it would save (the
chance that the result came since the last poll, times half the time since then) reaches the
price of one GET, in seconds of waiting. The chance comes from the durations of the action's
recent runs (duration_estimate). The price is POLL_GET_PRICE_SECONDS, raised while the runs
open would need more GETs than 90% of the budget allows. With too little history, the fixed
back-off (5 s six times, then doubling). Never longer than POLL_MAX_INTERVAL_SECONDS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.runs.duration_estimate import DurationEstimate
from app.runs.poll_schedule import next_poll_delay

# Seconds of waiting one GET is worth when the budget is not short: lower spends more GETs for
# earlier results (bench/polling.py sweeps it for the trade-off curve).
GET_PRICE_SECONDS = 4.0
# The share of the GET budget the schedule plans to spend; the rest absorbs bursts.
BUDGET_SHARE = 0.9
# The price rises at most this many times: past it, a backlog the budget cannot cover waits
# its turn in line (paced) instead of being planned further and further out.
MAX_PRICE_FACTOR = 16.0
# Fewer ended runs than this: the fixed back-off.
MIN_ENDED = 10
# The chance at which a run counts as surely ended by the next poll.
ALL_ENDED = 0.999
# No two polls of a run closer than this, whatever the history says.
MIN_GAP_SECONDS = 1.0


@dataclass(frozen=True)
class PollPlan:
    """One action's schedule; `durations` None: too little history, the fixed back-off."""

    durations: DurationEstimate | None
    cap: float  # POLL_MAX_INTERVAL_SECONDS
    price: float = GET_PRICE_SECONDS  # seconds of waiting one GET is worth now

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
        durations = self.durations
        if durations.left_after(age) <= 0.0:
            # Longer than every run seen (none still open): assumed to end at the rate the
            # longest ones did (a poll every sqrt(2 price / rate) saves about the price).
            gap = math.sqrt(2 * self.price / durations.tail_rate())
            return min(self.cap, max(MIN_GAP_SECONDS, gap))

        def saved(gap: float) -> float:
            chance = durations.chance_between(age, age + gap)
            # By then every run has ended: a later poll only adds waiting, never saves a GET.
            return math.inf if chance >= ALL_ENDED else chance * gap / 2

        if saved(self.cap) < self.price:
            return self.cap
        low, high = MIN_GAP_SECONDS, self.cap
        if saved(low) >= self.price:
            return low
        for _ in range(40):  # the saving grows with the gap: bisect to the price
            middle = (low + high) / 2
            low, high = (middle, high) if saved(middle) < self.price else (low, middle)
        return high


def plan_for(durations: DurationEstimate | None, cap: float, price: float = GET_PRICE_SECONDS):
    """The learned plan once MIN_ENDED runs have ended, else the fixed back-off."""
    if durations is None or durations.ended < MIN_ENDED:
        return PollPlan(None, cap)
    return PollPlan(durations, cap, price)


def budget_price(durations: DurationEstimate, open_ages: list[float], gets_per_second: float):
    """The price at which the open runs' polls fit BUDGET_SHARE of the GET budget: each run
    polled every sqrt(2 price / hazard) seconds makes sum(sqrt(hazard / (2 price))) GETs a
    second. Never below GET_PRICE_SECONDS; that price when the budget is unlimited."""
    if not open_ages or gets_per_second <= 0 or math.isinf(gets_per_second):
        return GET_PRICE_SECONDS
    demand = sum(math.sqrt(durations.hazard(age)) for age in open_ages)
    allowed = BUDGET_SHARE * gets_per_second
    price = demand * demand / (2 * allowed * allowed)
    return min(GET_PRICE_SECONDS * MAX_PRICE_FACTOR, max(GET_PRICE_SECONDS, price))


def shortfall(open_runs: int, limit: int | None, window: float, cap: float) -> int:
    """Polls per window the GET budget (`limit`, None: exempt) cannot cover, to poll each of
    `open_runs` runs at least every `cap` seconds; 0: covered. Then every run waits its
    turn in line (its fair share), and this number says how far the budget falls short."""
    if limit is None:
        return 0
    needed = open_runs * max(1, math.ceil(window / cap))
    return max(0, needed - limit)
