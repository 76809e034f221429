"""The upstream rate budget, kept in the database so every thread, process and machine shares it.

Each account (each token) has its own fixed windows per bucket: the row "<account>/<bucket>".
A row's `limit` is the one in force for its current window: the account's configured limit at
the window's start, lowered during it by a smaller configured one or by upstream's stricter
X-RateLimit-Limit (a larger one never raises ours: an override stays a cap); -1: exempt.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

from app.accounts.selection import DEFAULT_ACCOUNT
from app.store import budget_repo
from app.store.engine import Engine, read, write
from app.upstream import budget_windows as windows
from app.upstream.account_limits import BucketLimit
from app.upstream.budget_windows import EXEMPT
from app.upstream.outcomes import RateInfo


@dataclass(frozen=True)
class Admission:
    """One answer of the budget: `wait` is 0.0 for a granted (and counted) call; `short`: more
    calls wait than the window has left, the next in `next_in` seconds."""

    wait: float
    window_start: float
    window_end: float
    account: str = DEFAULT_ACCOUNT
    limit: int | None = None  # the window's limit; None: exempt
    short: bool = False
    next_in: float = 0.0

    @property
    def granted(self) -> bool:
        return self.wait == 0.0


def bucket_key(account: str, bucket: str) -> str:
    return f"{account}/{bucket}"


class RateBudget:
    """Fixed windows per account and bucket ("get", "run"); each decision is one locked write
    transaction. `limits` are the defaults (ZAPIER_GET_LIMIT, ZAPIER_RUN_LIMIT); a call names
    its account's own BucketLimit when it has one (app/upstream/account_limits.py)."""

    def __init__(self, engine: Engine, limits: dict[str, int], window_seconds: float = 300.0):
        self.engine = engine
        self.limits = dict(limits)
        self.window_seconds = float(window_seconds)

    def try_acquire(self, bucket: str, now: float | None = None, **account) -> float:
        """0.0 when a call is granted and counted, else the seconds until one may be."""
        return self.acquire(bucket, now, **account).wait

    def acquire(
        self,
        bucket: str,
        now: float | None = None,
        *,
        account: str = DEFAULT_ACCOUNT,
        limit: BucketLimit | None = None,
        backlog: int | None = None,
    ) -> Admission:
        """Like try_acquire, also naming the window the decision was made in. `backlog`: the
        calls waiting for this bucket, this one included (a backlog beyond the window's rest
        is paced: see budget_windows.grant)."""
        now = time.time() if now is None else now
        configured = self._configured(bucket, limit)
        with write(self.engine) as conn:
            state = self._locked_state(conn, account, bucket, now, configured)
            next_grant = windows.grant(state, now, self.window_seconds, backlog)
            budget_repo.save_bucket(conn, bucket_key(account, bucket), state)
        wait = max(0.0, next_grant - now)
        shown = None if state["limit"] == EXEMPT else state["limit"]
        short = wait == 0.0 and windows.short(state, backlog)
        following = (state["paced_until"] or state["window_end"]) if short else next_grant
        return Admission(
            wait,
            state["window_start"],
            state["window_end"],
            account,
            shown,
            short,
            max(0.0, following - now),
        )

    def observe(
        self,
        bucket: str,
        rate: RateInfo | None,
        now: float | None = None,
        *,
        account: str = DEFAULT_ACCOUNT,
        limit: BucketLimit | None = None,
    ) -> None:
        """Raise our count to what upstream's headers say is left; follow upstream's window
        (however far its reset lies), and its limit when it is below ours."""
        if rate is None or (rate.remaining is None and rate.reset_at is None):
            return
        now = time.time() if now is None else now
        # Headers about a window that is already over say nothing about the current one.
        if rate.reset_at is not None and rate.reset_at <= now:
            return
        configured = self._configured(bucket, limit)
        with write(self.engine) as conn:
            state = self._locked_state(conn, account, bucket, now, configured)
            windows.follow(state, rate, now, self.window_seconds)
            budget_repo.save_bucket(conn, bucket_key(account, bucket), state)

    def block(self, bucket: str, until: float, *, account: str = DEFAULT_ACCOUNT) -> None:
        """After a 429/503 with Retry-After: no call of this account and bucket before `until`."""
        configured = self._configured(bucket, None)
        with write(self.engine) as conn:
            state = self._locked_state(conn, account, bucket, time.time(), configured, keep=True)
            state["blocked_until"] = max(state["blocked_until"], until)
            budget_repo.save_bucket(conn, bucket_key(account, bucket), state)

    def snapshot(self, now: float | None = None, account: str = DEFAULT_ACCOUNT) -> dict:
        """Per bucket of one account: limit, used, remaining, window_end, blocked_until."""
        now = time.time() if now is None else now
        with read(self.engine) as conn:
            rows = budget_repo.bucket_rows(conn)
        return self._view(rows, account, self.limits, now)

    def rate(self, bucket: str, account: str = DEFAULT_ACCOUNT) -> float:
        """Calls a second the account's window allows (its limit in force over the window's
        length); math.inf when exempt."""
        limit = self.snapshot(account=account)[bucket]["limit"]
        return math.inf if limit is None else limit / self.window_seconds

    def snapshot_accounts(self, now: float | None = None, accounts: Iterable[str] = ()) -> dict:
        """{account: snapshot} for every account with a window, and `accounts` besides."""
        now = time.time() if now is None else now
        with read(self.engine) as conn:
            rows = budget_repo.bucket_rows(conn)
        names = {key.rpartition("/")[0] for key in rows} | set(accounts)
        return {name: self._view(rows, name, self.limits, now) for name in sorted(names)}

    def _view(self, rows: dict, account: str, buckets: Iterable[str], now: float) -> dict:
        view = {}
        for bucket in buckets:
            row = rows.get(bucket_key(account, bucket))
            live = row is not None and now < row["window_end"]
            used = row["used"] if live else 0
            stored = row["limit"] if row is not None else self.limits[bucket]
            limit = None if stored == EXEMPT else stored
            view[bucket] = {
                "limit": limit,
                "used": used,
                "remaining": math.inf if limit is None else max(0, limit - used),
                "window_end": row["window_end"] if live else None,
                "blocked_until": row["blocked_until"] if row is not None else 0.0,
            }
        return view

    def _configured(self, bucket: str, limit: BucketLimit | None) -> BucketLimit:
        if bucket not in self.limits:
            raise ValueError(f"unknown rate budget bucket {bucket!r}")
        return limit if limit is not None else BucketLimit(self.limits[bucket])

    def _locked_state(
        self,
        conn,
        account: str,
        bucket: str,
        now: float,
        configured: BucketLimit,
        keep: bool = False,
    ) -> dict:
        """The bucket's state, locked for this transaction and moved into the window of `now`
        (budget_windows.roll). `keep`: the caller knows no limit (a block)."""
        calls = EXEMPT if configured.calls is None else configured.calls
        fresh = windows.fresh_state(now, self.window_seconds, calls)
        state = budget_repo.locked_bucket(conn, bucket_key(account, bucket), fresh)
        windows.roll(state, now, self.window_seconds, calls, keep)
        return state
