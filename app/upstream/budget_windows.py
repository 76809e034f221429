"""The rate budget's window arithmetic, pure: roll a window over, grant a call, follow upstream.

A bucket's state is a dict: window_start, window_end, used, limit (EXEMPT: none), blocked_until,
carried (grants made near the window's end) and paced_until (no paced grant before it).
"""

from __future__ import annotations

import math

from app.upstream.outcomes import RateInfo

EXEMPT = -1  # a stored limit: the token's rate_limit claim says exempt
# A call granted this close to its window's end may reach upstream in the next window: it is
# counted in both, so a window boundary never lets one call too many through.
MAX_CARRY_SECONDS = 2.0
# An X-RateLimit-Reset further ahead than this is not believed (a broken header, not a plan).
MAX_RESET_AHEAD_SECONDS = 86_400.0


def carry_seconds(window_seconds: float) -> float:
    return min(MAX_CARRY_SECONDS, window_seconds / 4)


def fresh_state(now: float, window_seconds: float, calls: int) -> dict:
    return {
        "window_start": now,
        "window_end": now + window_seconds,
        "used": 0,
        "limit": calls,
        "blocked_until": 0.0,
        "carried": 0,
        "paced_until": 0.0,
    }


def roll(state: dict, now: float, window_seconds: float, calls: int, keep: bool) -> None:
    """Move `state` into the window of `now`. A new window starts at the configured limit
    (`calls`), counting the calls carried over its boundary; within a window the lower of the
    stored limit (upstream may have lowered it) and `calls` stands. `keep`: the stored limit
    stands in any case (the caller knows no limit)."""
    if now < state["window_end"]:
        if not keep:
            state["limit"] = lower(state["limit"], calls)
        return
    # Windows follow one another back to back, so they stay on upstream's grid.
    skipped = math.floor((now - state["window_end"]) / window_seconds)
    state["used"] = state["carried"] if skipped == 0 else 0
    state["carried"] = 0
    state["window_start"] = state["window_end"] + skipped * window_seconds
    state["window_end"] = state["window_start"] + window_seconds
    if not keep:
        state["limit"] = calls


def grant(state: dict, now: float, window_seconds: float, backlog: int | None = None) -> float:
    """Count one call if one may go now; returns when the next may go (`now`: this one went).

    `backlog`: the calls waiting for this bucket. When they outnumber what the window has left,
    the rest of the window is shared out evenly among them (paced) instead of spent at once.
    """
    next_grant = max(state["blocked_until"], state["paced_until"])
    exempt = state["limit"] == EXEMPT
    if not exempt and state["used"] >= state["limit"]:
        next_grant = max(next_grant, state["window_end"])
    if next_grant > now:
        return next_grant
    state["used"] += 1
    if now >= state["window_end"] - carry_seconds(window_seconds):
        state["carried"] += 1
    state["paced_until"] = 0.0
    if short(state, backlog) and state["used"] < state["limit"]:
        # The last of them goes before the window ends (none is left over), and before the
        # stretch near its end whose grants count in the next window too.
        left = state["limit"] - state["used"]
        end = state["window_end"] - carry_seconds(window_seconds)
        end = end if end > now else state["window_end"]
        state["paced_until"] = now + (end - now) / (left + 1)
    return now


def short(state: dict, backlog: int | None) -> bool:
    """Whether the calls still waiting (`backlog` less the one just granted) outnumber what
    the window has left: they are paced, and the budget is said to be spent."""
    if backlog is None or state["limit"] == EXEMPT:
        return False
    return backlog - 1 > state["limit"] - state["used"]


def follow(state: dict, rate: RateInfo, now: float, window_seconds: float) -> None:
    """Follow upstream's X-RateLimit-* headers: its Reset ends our window, however far from our
    own arithmetic it lies; its Remaining raises our count; its Limit lowers ours."""
    if rate.reset_at is not None and rate.reset_at <= now + MAX_RESET_AHEAD_SECONDS:
        if rate.reset_at != state["window_end"]:
            # Our grants so far were timed against our old boundary: when upstream's is near,
            # any still on its way may land past it, so all of them count in the next window.
            near = now >= rate.reset_at - carry_seconds(window_seconds)
            state["carried"] = state["used"] if near else 0
        state["window_end"] = rate.reset_at
        state["window_start"] = min(now, rate.reset_at - window_seconds)
    if rate.limit is not None:
        state["limit"] = lower(state["limit"], rate.limit)
    if rate.remaining is not None and state["limit"] != EXEMPT:
        # Upstream lets R more calls through, whatever either side's limit is; and calls of
        # ours still in flight are not in R yet, so never count lower.
        state["used"] = max(state["used"], state["limit"] - rate.remaining)


def lower(stored: int, other: int) -> int:
    """The stricter of two limits, EXEMPT being no limit at all."""
    if stored == EXEMPT:
        return other
    if other == EXEMPT:
        return stored
    return min(stored, other)
