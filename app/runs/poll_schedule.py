"""When to poll a run: back-off between polls, and the grace shortened while callbacks miss."""

from __future__ import annotations

POLL_BASE_SECONDS = 5.0
# Polls at the base interval before backing off: most runs end within their first minute, and
# close watching there is what keeps detection quick (see docs/benchmarks.md, section c).
POLL_FAST_POLLS = 6


def next_poll_delay(poll_count: int, cap: float) -> float:
    """After `poll_count` polls: 5 s six times, then 10 s, 20 s, 40 s ... up to `cap`."""
    if poll_count < POLL_FAST_POLLS:
        return min(cap, POLL_BASE_SECONDS)
    return min(cap, POLL_BASE_SECONDS * 2 ** min(poll_count - POLL_FAST_POLLS + 1, 20))


def shortened_grace(configured: float, missed: float | None) -> float:
    """CALLBACK_GRACE_SECONDS x (1 - the share of recent runs settled by a poll).

    It never goes below the first poll interval (5 s) unless the configured grace does.
    """
    if missed is None:
        return configured
    floor = min(configured, POLL_BASE_SECONDS)
    return max(floor, configured * (1.0 - missed))
