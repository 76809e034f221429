"""The maintenance lane: retention's purge (RETENTION_DAYS), in bounded batches, and the
callbacks-missing check (OPS_WEBHOOK_URLS), on a thread of their own.

It shares nothing with the upstream threads or the delivery engine but the connection pool, so
a long purge delays no submission, poll or forward. Every worker runs it; the batches are safe
to run side by side (see app/store/retention_repo.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

from app.observability.event_metrics import observe_purged
from app.runs.callback_health import check_callbacks_missing
from app.store import retention_repo
from app.store.engine import DatabaseError

log = logging.getLogger(__name__)
DAY_SECONDS = 86400.0
# A pass every minute at most; a short window (tests, the soak bench) is looked at more often.
MAX_INTERVAL_SECONDS = 60.0
MIN_INTERVAL_SECONDS = 1.0
FIRST_PASS_DELAY_SECONDS = 1.0
# Between two batches, at least as long as the batch took: other writers take the lock (SQLite
# has one writer at a time), so a long purge takes at most half of its time.
MIN_BATCH_PAUSE_SECONDS = 0.05


def window_seconds(services) -> float:
    """How long final work is kept; 0 keeps everything forever."""
    return max(0.0, services.settings.retention_days) * DAY_SECONDS


def interval_seconds(window: float) -> float:
    return min(MAX_INTERVAL_SECONDS, max(MIN_INTERVAL_SECONDS, window / 10.0))


def purge_step(services, now: float | None = None) -> Counter[str]:
    """One bounded batch of everything past the window; rows deleted by table (empty: none
    left, or retention is off)."""
    window = window_seconds(services)
    if window <= 0:
        return Counter()
    cutoff = (time.time() if now is None else now) - window
    purged = retention_repo.purge_batch(services.engine, cutoff)
    observe_purged(purged)
    return purged


def purge_all(services, stop: threading.Event) -> Counter[str]:
    """Batches until one purges nothing, or until `stop` is set; the rows deleted by table."""
    total: Counter[str] = Counter()
    while not stop.is_set():
        started = time.monotonic()
        purged = purge_step(services)
        if not purged:
            break
        total.update(purged)
        stop.wait(max(MIN_BATCH_PAUSE_SECONDS, time.monotonic() - started))
    return total


class MaintenanceLane:
    """The thread's body: a purge pass now and then, until `stop` is set."""

    def __init__(self, services, stop: threading.Event):
        self.services = services
        self.stop = stop

    @property
    def enabled(self) -> bool:
        return self.retaining or bool(self.services.settings.ops_webhook_urls)

    @property
    def retaining(self) -> bool:
        return window_seconds(self.services) > 0

    def run(self) -> None:
        window = window_seconds(self.services)
        interval = interval_seconds(window) if window > 0 else MAX_INTERVAL_SECONDS
        wait = FIRST_PASS_DELAY_SECONDS
        while not self.stop.wait(wait):
            wait = interval
            self._check_callbacks()
            if not self.retaining:
                continue
            try:
                purged = purge_all(self.services, self.stop)
            except DatabaseError:
                # A lost connection or a lock conflict: nothing half done, the next pass retries.
                log.exception("retention purge failed; retrying in %.0f s", interval)
                continue
            except Exception:
                log.exception("unexpected error in the retention purge")
                continue
            if purged:
                log.info("retention purged %s", ", ".join(f"{t}={n}" for t, n in purged.items()))

    def _check_callbacks(self) -> None:
        if not self.services.settings.ops_webhook_urls:
            return
        try:
            check_callbacks_missing(self.services)
        except DatabaseError:
            log.exception("could not check whether callbacks arrive; next pass retries")
