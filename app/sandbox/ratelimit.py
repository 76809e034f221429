"""Fixed-window request counters shared by every process, and the X-RateLimit-* headers."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, select, update

from app.sandbox.tables import insert_if_absent, windows

BUCKETS = ("get", "run")


@dataclass(frozen=True)
class Decision:
    """One request's verdict against its bucket's current window."""

    bucket: str
    admitted: bool
    limit: int
    used: int
    reset_at: int  # unix seconds when the window ends
    retry_after: int  # whole seconds until then, at least 1
    burst: int | None = None  # 429 or 503: an admitted request answered with a fault anyway

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - self.used)),
            "X-RateLimit-Reset": str(self.reset_at),
        }


def admit(
    conn: Connection,
    bucket: str,
    limit: int,
    window_seconds: float,
    now: float,
    burst: int | None = None,
) -> Decision:
    """Count the request in its window if the window has room; call inside one write transaction."""
    start = _window_start(now, window_seconds)
    key = and_(windows.c.bucket == bucket, windows.c.window_start == start)
    admit_one = (
        update(windows)
        .where(key, windows.c.admitted < limit)
        .values(
            admitted=windows.c.admitted + 1,
            throttled=windows.c.throttled + (1 if burst == 429 else 0),
            unavailable=windows.c.unavailable + (1 if burst == 503 else 0),
        )
        .returning(windows.c.admitted)
    )
    used = conn.execute(admit_one).scalar()
    if used is None:
        # Either the window's row does not exist yet or the window is full: make sure it
        # exists, then try once more; the guard in the WHERE keeps the count within the limit.
        conn.execute(
            insert_if_absent(
                conn,
                windows,
                bucket=bucket,
                window_start=start,
                admitted=0,
                throttled=0,
                unavailable=0,
            )
        )
        used = conn.execute(admit_one).scalar()
    if used is None:
        refuse = (
            update(windows)
            .where(key)
            .values(throttled=windows.c.throttled + 1)
            .returning(windows.c.admitted)
        )
        used = conn.execute(refuse).scalar_one()
        return _decision(bucket, False, limit, used, start, window_seconds, now, None)
    return _decision(bucket, True, limit, used, start, window_seconds, now, burst)


def draw_burst(rng: random.Random, p429: float, p503: float) -> int | None:
    """The fault to answer an admitted request with, if the burst knobs say so."""
    draw = rng.random()
    if draw < p429:
        return 429
    if draw < p429 + p503:
        return 503
    return None


def peek(conn: Connection, bucket: str, limit: int, window_seconds: float, now: float) -> Decision:
    """The current window's state without counting anything (for answers that are not admitted)."""
    start = _window_start(now, window_seconds)
    used = conn.execute(
        select(windows.c.admitted).where(
            windows.c.bucket == bucket, windows.c.window_start == start
        )
    ).scalar()
    return _decision(bucket, False, limit, used or 0, start, window_seconds, now, None)


def window_stats(conn: Connection) -> dict[str, dict]:
    """Per bucket: every window's counts, the most admitted in one window, 429s and 503s."""
    stats = {
        b: {"windows": [], "max_per_window": 0, "answered_429": 0, "answered_503": 0}
        for b in BUCKETS
    }
    rows = conn.execute(select(windows).order_by(windows.c.bucket, windows.c.window_start))
    for row in rows:
        entry = stats.setdefault(
            row.bucket, {"windows": [], "max_per_window": 0, "answered_429": 0, "answered_503": 0}
        )
        entry["windows"].append(
            {
                "start": row.window_start,
                "admitted": row.admitted,
                "throttled": row.throttled,
                "unavailable": row.unavailable,
            }
        )
        entry["max_per_window"] = max(entry["max_per_window"], row.admitted)
        entry["answered_429"] += row.throttled
        entry["answered_503"] += row.unavailable
    return stats


def forget_windows(conn: Connection) -> None:
    conn.execute(delete(windows))


def _window_start(now: float, window_seconds: float) -> float:
    return math.floor(now / window_seconds) * window_seconds


def _decision(bucket, admitted, limit, used, start, window_seconds, now, burst) -> Decision:
    end = start + window_seconds
    return Decision(
        bucket=bucket,
        admitted=admitted,
        limit=limit,
        used=used,
        reset_at=math.ceil(end),
        retry_after=max(1, math.ceil(end - now)),
        burst=burst,
    )
