"""How long to wait for a callback before polling, learned from how recent runs settled."""

from __future__ import annotations

import threading
import time

from app.runs.poll_schedule import shortened_grace
from app.store import runs_repo
from app.store.engine import read

RECENT_RUNS = 50  # settled runs the miss rate is taken over
MIN_HISTORY = 10  # fewer than this: trust the configured grace
CACHE_SECONDS = 10.0  # one query per process per this long, not one per submission


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
