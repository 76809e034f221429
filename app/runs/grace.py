"""How long to wait for a callback before polling: the configured grace, shortened while
recent callbacks have been missing, so a relay whose callbacks never arrive stops waiting."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from app.runs.schedule import POLL_BASE_SECONDS
from app.store.engine import read
from app.store.tables import runs

RECENT_RUNS = 50  # settled runs the miss rate is taken over
MIN_HISTORY = 10  # fewer than this: trust the configured grace
CACHE_SECONDS = 10.0  # one query per process per this long, not one per submission


class CallbackGrace:
    """CALLBACK_GRACE_SECONDS x (1 - the share of recent runs settled by a poll).

    The share counts runs that could have been called back and were settled by a result;
    it never goes below the first poll interval (5 s) unless the configured grace does.
    """

    def __init__(self, engine, configured: float):
        self.engine = engine
        self.configured = configured
        self._lock = threading.Lock()
        self._value: tuple[float, float] | None = None  # (computed at, grace)

    def seconds(self, kind: str, now: float | None = None) -> float:
        now = time.time() if now is None else now
        with self._lock:
            if self._value is None or now - self._value[0] >= CACHE_SECONDS:
                self._value = (now, self._compute(kind))
            return self._value[1]

    def miss_rate(self, kind: str) -> float | None:
        """Share of the last RECENT_RUNS settled runs of `kind` settled by a poll (None: few)."""
        stmt = (
            select(runs.c.source)
            .where(runs.c.kind == kind, runs.c.source.in_(("callback", "poll")))
            .order_by(runs.c.created_at.desc())
            .limit(RECENT_RUNS)
        )
        with read(self.engine) as conn:
            sources = conn.execute(stmt).scalars().all()
        if len(sources) < MIN_HISTORY:
            return None
        return sources.count("poll") / len(sources)

    def _compute(self, kind: str) -> float:
        missed = self.miss_rate(kind)
        if missed is None:
            return self.configured
        floor = min(self.configured, POLL_BASE_SECONDS)
        return max(floor, self.configured * (1.0 - missed))
