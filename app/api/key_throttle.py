"""Throttling of wrong API keys per client address; right keys are never slowed.

Past FAILURES_ALLOWED wrong keys within WINDOW_SECONDS from one address, each further wrong
key gets 429 with Retry-After instead of 401. Kept per web process, in bounded memory: a
guesser spread over several processes gets a few more tries, never an unbounded number.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque

FAILURES_ALLOWED = 20
WINDOW_SECONDS = 60.0
MAX_ADDRESSES = 10_000  # the least recently failing addresses are forgotten first


class FailedKeyThrottle:
    def __init__(self, allowed: int = FAILURES_ALLOWED, window: float = WINDOW_SECONDS):
        self.allowed = allowed
        self.window = window
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def wait_for(self, address: str, now: float | None = None) -> int:
        """Seconds this address must wait before a wrong key is answered 401 again (0: none)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._recent(address, now)
            if len(times) < self.allowed:
                return 0
            return max(1, math.ceil(times[0] + self.window - now))

    def failed(self, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._recent(address, now)
            times.append(now)
            self._failures[address] = times
            self._failures.move_to_end(address)
            while len(self._failures) > MAX_ADDRESSES:
                self._failures.popitem(last=False)

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._failures.get(address) or deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        return times
