"""The polling simulation's world: a virtual clock and an upstream that answers GETs by it."""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections import Counter, defaultdict

from app.upstream import outcomes as oc


class VirtualClock:
    def __init__(self, start: float):
        self.now = start

    def __call__(self) -> float:
        return self.now


@contextlib.contextmanager
def virtual_time(clock: VirtualClock):
    """Every time.time() in this process reads the virtual clock (the app calls time.time())."""
    real = time.time
    time.time = clock
    try:
        yield
    finally:
        time.time = real


class SimulatedUpstream:
    """GET answers: 202 until a run is done, then 200; the sandbox's fixed-window rate limit on
    its grid (windows start at multiples of `window`), with X-RateLimit-* on every answer."""

    def __init__(self, clock: VirtualClock, ready_at: dict[str, float], limit: int, window: float):
        self.clock, self.ready_at = clock, ready_at
        self.limit, self.window = limit, window
        self.window_start, self.used = None, 0
        self.gets: Counter[str] = Counter()
        self.get_times: defaultdict[str, list[float]] = defaultdict(list)
        self.answered_429 = 0
        self.per_window: Counter[float] = Counter()

    def get_stored_action_run(self, _stored_action_id: str, upstream_run_id: str, *, token=""):
        now = self.clock()
        start = math.floor(now / self.window) * self.window
        if start != self.window_start:
            self.window_start, self.used = start, 0
        throttled = self.used >= self.limit
        self.used += 0 if throttled else 1
        rate = oc.RateInfo(self.limit, self.limit - self.used, math.ceil(start + self.window))
        if throttled:
            self.answered_429 += 1
            return oc.Throttled(status=429, rate=rate, retry_after=rate.reset_at - now)
        self.gets[upstream_run_id] += 1
        self.get_times[upstream_run_id].append(now)
        self.per_window[start] += 1
        if now < self.ready_at[upstream_run_id]:
            return oc.Processing(status=202, rate=rate)
        body = {"type": "run", "id": upstream_run_id, "status": "success", "errors": []}
        return oc.Result(status=200, rate=rate, body=body, raw=json.dumps(body))

    def close(self) -> None:
        """As the real client's, for Services.close(); there is no connection to let go."""
