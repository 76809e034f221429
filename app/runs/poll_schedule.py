"""When to poll a run: the callback grace (shortened while callbacks go missing), then back-off."""

from __future__ import annotations

import threading
import time

from app.store import runs_repo
from app.store.engine import read

POLL_BASE_SECONDS = 5.0
# Polls at the base interval before backing off: most runs end within their first minute, and
# close watching there is what keeps detection quick (see docs/benchmarks.md, section c).
POLL_FAST_POLLS = 6
RECENT_RUNS = 50  # settled runs the miss rate is taken over
MIN_HISTORY = 10  # fewer than this: trust the configured grace
CACHE_SECONDS = 10.0  # one query per process per this long, not one per submission


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


class CallbackGrace:
    """The grace per run kind, from the share of recent runs that a poll had to settle."""

    def __init__(self, engine, configured: float):
        self.engine = engine
        self.configured = configured
        self._lock = threading.Lock()
        self._value: tuple[float, float] | None = None  # (computed at, grace)

    def seconds(self, kind: str, now: float | None = None) -> float:
        now = time.time() if now is None else now
        with self._lock:
            if self._value is None or now - self._value[0] >= CACHE_SECONDS:
                self._value = (now, shortened_grace(self.configured, self.miss_rate(kind)))
            return self._value[1]

    def miss_rate(self, kind: str) -> float | None:
        """Share of the last RECENT_RUNS settled runs of `kind` settled by a poll (None: few)."""
        with read(self.engine) as conn:
            sources = runs_repo.recent_settle_sources(conn, kind, RECENT_RUNS)
        if len(sources) < MIN_HISTORY:
            return None
        return sources.count("poll") / len(sources)
