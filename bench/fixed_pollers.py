"""Fixed-interval pollers, the relay's baseline: a script GETting each run every I seconds.

Plain event simulations (no database). A poll at time t finds the result if t >= ready_at; the
first poll is I seconds after submission. Upstream's windows sit on its grid (multiples of
`window`), as the simulated upstream's do.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter


def pure(specs, interval: float) -> list[dict]:
    """Every I s from submission until the result is there, whatever the budget says."""
    runs = []
    for spec in specs:
        polls = max(1, math.ceil((spec.ready_at - spec.submit_at) / interval - 1e-9))
        found = spec.submit_at + polls * interval
        runs.append({"gets": polls, "delay": found - spec.ready_at, "found_at": found})
    return runs


def pure_peak(specs, interval: float, window: float) -> int:
    """The most GETs the pure poller sends in one of upstream's windows."""
    per_window: Counter[int] = Counter()
    for spec, run in zip(specs, pure(specs, interval), strict=True):
        for k in range(1, run["gets"] + 1):
            per_window[math.floor((spec.submit_at + k * interval) / window)] += 1
    return max(per_window.values(), default=0)


def limited(specs, interval: float, limit: int, window: float) -> tuple[list[dict], int]:
    """The same script behind a client-side limiter: a FIFO queue that holds each poll until
    upstream's current window has room, so it never meets a 429. The next poll of a run is
    queued I s after its previous one was sent. Returns the runs and the polls held back."""
    ready = [spec.ready_at for spec in specs]
    gets, delays = [0] * len(specs), [0.0] * len(specs)
    queue = [(spec.submit_at + interval, i, i) for i, spec in enumerate(specs)]
    heapq.heapify(queue)
    order = len(specs)  # ties leave in the order they were queued
    sent_at, window_start, used, held = -math.inf, None, 0, 0
    while queue:
        queued_at, _, i = heapq.heappop(queue)
        at = max(queued_at, sent_at)  # FIFO: nothing overtakes a poll still waiting
        start = math.floor(at / window) * window
        if start != window_start:
            window_start, used = start, 0
        if used >= limit:
            window_start, used = window_start + window, 0
            at = window_start
        held += at > queued_at
        used, sent_at = used + 1, at
        gets[i] += 1
        if at >= ready[i]:
            delays[i] = at - ready[i]
        else:
            order += 1
            heapq.heappush(queue, (at + interval, order, i))
    return [{"gets": g, "delay": d} for g, d in zip(gets, delays, strict=True)], held


def sweep(specs, intervals, limit: int, window: float) -> list[dict]:
    """Each interval behind the limiter (always within the budget), and whether the pure
    poller, without it, would stay within the budget too (then both are the same)."""
    rows = []
    for interval in intervals:
        runs, held = limited(specs, interval, limit, window)
        peak = pure_peak(specs, interval, window)
        rows.append(
            {
                "interval": interval,
                "runs": runs,
                "held": held,
                "pure_peak": peak,
                "pure_feasible": peak <= limit,
            }
        )
    return rows
