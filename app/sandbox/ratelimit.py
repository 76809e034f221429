"""Fixed-window request counters per token, shared by every process, and the X-RateLimit-*
headers. Tokens are named by their fingerprint: the sandbox never stores a token."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

from sqlalchemy import Connection, and_, delete, select, true, update

from app.sandbox.tables import insert_if_absent, windows

BUCKETS = ("get", "run")
EXEMPT = -1  # a window's stored limit when the token's rate_limit claim says exempt


@dataclass(frozen=True)
class Decision:
    """One request's verdict against its token's bucket's current window."""

    bucket: str
    admitted: bool
    limit: int | None  # None: the token is exempt, and no X-RateLimit-* headers are sent
    used: int
    reset_at: int  # unix seconds when the window ends
    retry_after: int  # whole seconds until then, at least 1
    burst: int | None = None  # 429 or 503: an admitted request answered with a fault anyway
    revoked: bool = False  # the token was revoked (an admin call): answered 401

    def headers(self) -> dict[str, str]:
        if self.limit is None:
            return {}
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - self.used)),
            "X-RateLimit-Reset": str(self.reset_at),
        }


def admit(
    conn: Connection,
    token: str,
    bucket: str,
    limit: int | None,
    window_seconds: float,
    now: float,
    burst: int | None = None,
) -> Decision:
    """Count the request in its window if the window has room; call inside one write transaction.
    `limit` None: the token is exempt, every request is admitted (and counted)."""
    start = _window_start(now, window_seconds)
    key = _key(token, bucket, start)
    room = windows.c.admitted < limit if limit is not None else true()
    admit_one = (
        update(windows)
        .where(key, room)
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
        _ensure_window(conn, token, bucket, start, limit)
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


def refuse_unauthorized(
    conn: Connection, token: str, bucket: str, limit: int | None, window_seconds: float, now: float
) -> Decision:
    """Count a 401 (a revoked token) in the token's window, admitting nothing."""
    start = _window_start(now, window_seconds)
    _ensure_window(conn, token, bucket, start, limit)
    used = conn.execute(
        update(windows)
        .where(_key(token, bucket, start))
        .values(unauthorized=windows.c.unauthorized + 1)
        .returning(windows.c.admitted)
    ).scalar_one()
    decision = _decision(bucket, False, limit, used, start, window_seconds, now, None)
    return replace(decision, revoked=True)


def draw_burst(rng: random.Random, p429: float, p503: float) -> int | None:
    """The fault to answer an admitted request with, if the burst knobs say so."""
    draw = rng.random()
    if draw < p429:
        return 429
    if draw < p429 + p503:
        return 503
    return None


def peek(
    conn: Connection, token: str, bucket: str, limit: int | None, window_seconds: float, now: float
) -> Decision:
    """The current window's state without counting anything (for answers that are not admitted)."""
    start = _window_start(now, window_seconds)
    used = conn.execute(select(windows.c.admitted).where(_key(token, bucket, start))).scalar()
    return _decision(bucket, False, limit, used or 0, start, window_seconds, now, None)


def forget_windows(conn: Connection) -> None:
    conn.execute(delete(windows))


def _key(token: str, bucket: str, start: float):
    return and_(
        windows.c.token == token, windows.c.bucket == bucket, windows.c.window_start == start
    )


def _ensure_window(conn, token: str, bucket: str, start: float, limit: int | None) -> None:
    conn.execute(
        insert_if_absent(
            conn,
            windows,
            token=token,
            bucket=bucket,
            window_start=start,
            limit=EXEMPT if limit is None else limit,
            admitted=0,
            throttled=0,
            unavailable=0,
            unauthorized=0,
        )
    )


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
