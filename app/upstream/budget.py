"""The upstream rate budget, kept in the database so every thread, process and machine shares it."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from app.store import budget_repo
from app.store.engine import Engine, read, write
from app.upstream.outcomes import RateInfo


@dataclass(frozen=True)
class Admission:
    """One answer of the budget: `wait` is 0.0 for a granted (and counted) call."""

    wait: float
    window_start: float
    window_end: float

    @property
    def granted(self) -> bool:
        return self.wait == 0.0


class RateBudget:
    """Fixed windows per bucket ("get", "run"); each decision is one locked write transaction."""

    def __init__(self, engine: Engine, limits: dict[str, int], window_seconds: float = 300.0):
        self.engine = engine
        self.limits = dict(limits)
        self.window_seconds = float(window_seconds)

    def try_acquire(self, bucket: str, now: float | None = None) -> float:
        """0.0 when a call is granted and counted, else the seconds until one may be."""
        return self.acquire(bucket, now).wait

    def acquire(self, bucket: str, now: float | None = None) -> Admission:
        """Like try_acquire, also naming the window the decision was made in."""
        now = time.time() if now is None else now
        limit = self._limit(bucket)
        with write(self.engine) as conn:
            state = self._locked_state(conn, bucket, now)
            next_grant = state["blocked_until"]
            if state["used"] >= limit:
                next_grant = max(next_grant, state["window_end"])
            elif next_grant <= now:
                state["used"] += 1
            budget_repo.save_bucket(conn, bucket, state)
        wait = max(0.0, next_grant - now)
        return Admission(wait, state["window_start"], state["window_end"])

    def observe(self, bucket: str, rate: RateInfo | None, now: float | None = None) -> None:
        """Raise our count to what upstream's headers say is left; follow upstream's window."""
        if rate is None or (rate.remaining is None and rate.reset_at is None):
            return
        now = time.time() if now is None else now
        # Headers about a window that is already over say nothing about the current one.
        if rate.reset_at is not None and rate.reset_at <= now:
            return
        limit = self._limit(bucket)
        with write(self.engine) as conn:
            state = self._locked_state(conn, bucket, now)
            if rate.reset_at is not None and rate.reset_at <= now + self.window_seconds:
                state["window_end"] = rate.reset_at
                state["window_start"] = min(now, rate.reset_at - self.window_seconds)
            if rate.remaining is not None:
                # Upstream lets R more calls through, whatever either side's limit is; and
                # calls of ours still in flight are not in R yet, so never count lower.
                state["used"] = max(state["used"], limit - rate.remaining)
            budget_repo.save_bucket(conn, bucket, state)

    def block(self, bucket: str, until: float) -> None:
        """After a 429/503 with Retry-After: no call in this bucket before `until`."""
        self._limit(bucket)
        with write(self.engine) as conn:
            state = self._locked_state(conn, bucket, time.time())
            state["blocked_until"] = max(state["blocked_until"], until)
            budget_repo.save_bucket(conn, bucket, state)

    def snapshot(self, now: float | None = None) -> dict[str, dict]:
        """Per bucket: limit, used, remaining, window_end, blocked_until (for metrics)."""
        now = time.time() if now is None else now
        with read(self.engine) as conn:
            rows = budget_repo.bucket_rows(conn)
        view = {}
        for bucket, limit in self.limits.items():
            row = rows.get(bucket)
            live = row is not None and now < row["window_end"]
            used = row["used"] if live else 0
            view[bucket] = {
                "limit": limit,
                "used": used,
                "remaining": max(0, limit - used),
                "window_end": row["window_end"] if live else None,
                "blocked_until": row["blocked_until"] if row is not None else 0.0,
            }
        return view

    def _limit(self, bucket: str) -> int:
        try:
            return self.limits[bucket]
        except KeyError:
            raise ValueError(f"unknown rate budget bucket {bucket!r}") from None

    def _locked_state(self, conn, bucket: str, now: float) -> dict:
        """The bucket's state, locked for this transaction and moved into the window of `now`."""
        fresh = {
            "window_start": now,
            "window_end": now + self.window_seconds,
            "used": 0,
            "limit": self._limit(bucket),
            "blocked_until": 0.0,
        }
        state = budget_repo.locked_bucket(conn, bucket, fresh)
        state["limit"] = self._limit(bucket)
        if now >= state["window_end"]:
            # Windows follow one another back to back, so they stay on upstream's grid.
            skipped = math.floor((now - state["window_end"]) / self.window_seconds)
            state["window_start"] = state["window_end"] + skipped * self.window_seconds
            state["window_end"] = state["window_start"] + self.window_seconds
            state["used"] = 0
        return state
