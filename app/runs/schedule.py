"""When to try again: poll back-off, submission back-off, and the delivery retry schedule."""

from __future__ import annotations

POLL_BASE_SECONDS = 5.0
# Polls at the base interval before backing off: most runs end within their first minute, and
# close watching there is what keeps detection quick (see docs/benchmarks.md, section c).
POLL_FAST_POLLS = 6
SUBMIT_BASE_SECONDS = 2.0
SUBMIT_MAX_SECONDS = 300.0


def next_poll_delay(poll_count: int, cap: float) -> float:
    """After `poll_count` polls: 5 s six times, then 10 s, 20 s, 40 s ... up to `cap`."""
    if poll_count < POLL_FAST_POLLS:
        return min(cap, POLL_BASE_SECONDS)
    return min(cap, POLL_BASE_SECONDS * 2 ** min(poll_count - POLL_FAST_POLLS + 1, 20))


def next_submit_delay(attempts: int) -> float:
    return min(SUBMIT_MAX_SECONDS, SUBMIT_BASE_SECONDS * 2 ** min(attempts, 20))


def next_delivery_delay(schedule: tuple[int, ...], failures: int, retry_after: float | None):
    """Seconds before the next attempt after `failures` failed ones; None when out of tries.

    A subscriber's Retry-After wins over the schedule, but cannot stretch a wait past a day.
    """
    if failures > len(schedule):
        return None
    delay = float(schedule[failures - 1])
    if retry_after is not None:
        delay = max(delay, min(retry_after, 86400.0))
    return delay
