"""How long one stored action's (or v2 action's) runs take, estimated from its recent runs.

Each settled run gives its duration (submission to result): exactly when a callback brought
the result, else the middle between the last poll that said "still processing" and the poll
that found it. A run still open says "longer than its age when a poll last saw it processing"
(one not polled yet says nothing); the estimate (Kaplan-Meier) counts it so, so that a burst
of long runs does not look short while only its short ones have ended.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Observation:
    """One run: its duration if it ended (`ended`), else its age so far."""

    seconds: float
    ended: bool


@dataclass(frozen=True)
class DurationEstimate:
    """The share of runs ended by each age (a step function); `ended` runs it rests on."""

    ages: tuple[float, ...]  # ascending
    shares: tuple[float, ...]  # the share ended by each age, ascending, at most 1
    ended: int

    def share_by(self, age: float) -> float:
        """The estimated share of runs whose result exists `age` seconds after submission."""
        index = bisect.bisect_right(self.ages, age)
        return self.shares[index - 1] if index else 0.0

    def smooth_share(self, age: float) -> float:
        """share_by drawn as straight lines between the steps (from 0 at age 0); past the last
        step, the runs still open end at the rate of the last half of what is known."""
        if age <= 0:
            return 0.0  # (an age below 0: clocks of two machines a little apart)
        index = bisect.bisect_right(self.ages, age)
        if index < len(self.ages):
            left_age, left = (self.ages[index - 1], self.shares[index - 1]) if index else (0, 0)
            step = (age - left_age) / (self.ages[index] - left_age)
            return left + (self.shares[index] - left) * step
        if not self.ages:
            return 0.0
        last_age, left = self.ages[-1], 1.0 - self.shares[-1]
        if left <= 1e-9:
            return 1.0
        return 1.0 - left * math.exp(-self.tail_rate() * (age - last_age))

    def left_after(self, age: float) -> float:
        """The share of runs still running at `age`."""
        return 1.0 - self.smooth_share(age)

    def chance_between(self, start: float, end: float) -> float:
        """The chance that a run still running at `start` has ended by `end`."""
        left = self.left_after(start)
        return 0.0 if left <= 1e-9 else (self.smooth_share(end) - self.smooth_share(start)) / left

    def hazard(self, age: float) -> float:
        """Runs ending per second among those still running at `age` (over the next while)."""
        ahead = max(5.0, age / 2)
        return self.chance_between(age, age + ahead) / ahead

    def tail_rate(self) -> float:
        """Runs ending per second among those still running, over the last half of the ages
        seen: how the runs longer than any seen are assumed to end."""
        half = self.ages[-1] / 2
        ended, left = self.shares[-1] - self.share_by(half), 1.0 - self.share_by(half)
        rate = ended / (half * left) if half > 0 and left > 1e-9 else 0.0
        return rate or 1.0 / max(self.ages[-1], 1.0)

    def age_of_share(self, share: float) -> float | None:
        """The first age by which `share` of runs have ended; None: beyond what is known."""
        # The shares are products of fractions: a rounding error must not skip a step.
        index = bisect.bisect_left(self.shares, share - 1e-9)
        return self.ages[index] if index < len(self.ages) else None


def estimate(observations: Iterable[Observation]) -> DurationEstimate:
    """The Kaplan-Meier estimate of the share ended by each age."""
    ordered = sorted(observations, key=lambda o: (o.seconds, not o.ended))
    at_risk = len(ordered)
    surviving, ages, shares, ended = 1.0, [], [], 0
    i = 0
    while i < len(ordered):
        age = ordered[i].seconds
        endings = leaving = 0
        while i < len(ordered) and ordered[i].seconds == age:
            endings += ordered[i].ended
            leaving += 1
            i += 1
        if endings:
            surviving *= 1.0 - endings / at_risk
            ages.append(age)
            shares.append(1.0 - surviving)
            ended += endings
        at_risk -= leaving
    return DurationEstimate(tuple(ages), tuple(shares), ended)


def observation(run: dict, now: float) -> Observation | None:
    """What one run says about its action's durations; None: nothing (never submitted, or
    ended without a result: refused, expired, failed by the relay)."""
    submitted = run["submitted_at"]
    if submitted is None:
        return None
    if run["state"] in ("submitted", "waiting"):
        # Known to run longer only as far as a poll saw it processing: since then it may well
        # have ended (and a run not polled yet says nothing: a burst's wait in line).
        pending = run["last_pending_at"]
        return None if pending is None else Observation(max(0.0, pending - submitted), False)
    if run["settled_at"] is None or run["source"] not in ("callback", "poll"):
        return None
    found = run["settled_at"] - submitted
    if run["source"] == "callback":
        return Observation(max(0.0, found), ended=True)
    pending = run["last_pending_at"]
    low = pending - submitted if pending is not None else 0.0
    return Observation(max(0.0, (low + found) / 2), ended=True)
