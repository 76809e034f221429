"""When to try a forward again: the retry schedule (FORWARD_RETRY_SCHEDULE) and Retry-After."""

from __future__ import annotations

DEFAULT_RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
RETRY_AFTER_CAP_SECONDS = 86400.0


def next_delivery_delay(schedule: tuple[int, ...], failures: int, retry_after: float | None):
    """Seconds before the next attempt after `failures` failed ones; None when out of tries.

    A subscriber's Retry-After wins over the schedule, but cannot stretch a wait past a day.
    """
    if failures > len(schedule):
        return None
    delay = float(schedule[failures - 1])
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP_SECONDS))
    return delay
