"""The worker process: N threads, each claiming one unit of work per pass, stopped by SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading

from app.store.engine import DatabaseError
from app.store.wakeup import Wakeup, start_listener
from app.worker.tasks import deliver_one, poll_one, submit_one, watch_one

log = logging.getLogger(__name__)
# While the wake-up watch is down (a lost LISTEN connection), idle threads poll this often.
SHORT_POLL_SECONDS = 0.2
TASKS = (deliver_one, submit_one, poll_one, watch_one)


class Worker:
    def __init__(self, services):
        self.services = services
        self.stop = threading.Event()
        self.wakeup = Wakeup()
        self.listener = None
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def run_pass(self, owner: str) -> bool:
        """One pass over every kind of work; True if anything was done."""
        did = False
        for task in TASKS:
            try:
                did |= task(self.services, owner)
            except DatabaseError:
                # The database blinked: the lease lapses and the item is taken again later.
                log.exception("database error in %s", task.__name__)
                self.stop.wait(1.0)
            except Exception:
                log.exception("unexpected error in %s", task.__name__)
                self.stop.wait(1.0)
        return did

    def _thread_main(self, index: int) -> None:
        owner = f"{self.name}:{index}"
        idle = self.services.settings.worker_idle_seconds
        while not self.stop.is_set():
            rings = self.wakeup.rings  # before the pass: work landing during it is not missed
            if not self.run_pass(owner):
                self.wakeup.wait(self._idle_wait(idle), since=rings)

    def _idle_wait(self, idle: float) -> float:
        """A lost wake-up watch means no wake-ups: poll briefly until it is back."""
        if self.listener is not None and not self.wakeup.listening.is_set():
            return min(idle, SHORT_POLL_SECONDS)
        return idle

    def serve(self) -> None:
        """Run until SIGTERM/SIGINT; the current items finish, nothing is cut half-written."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        count = self.services.settings.worker_threads
        threads = [
            threading.Thread(target=self._thread_main, args=(i,), name=f"worker-{i}", daemon=True)
            for i in range(count)
        ]
        log.info(
            "worker %s started with %d threads (%s mode)",
            self.name,
            count,
            self.services.settings.mode,
        )
        self.listener = start_listener(self.services.engine, self.wakeup, self.stop)
        for thread in threads:
            thread.start()
        try:
            # A bounded wait, so the signal handler runs promptly in the main thread.
            while not self.stop.is_set():
                self.stop.wait(1.0)
        finally:
            for thread in threads:
                thread.join(timeout=self.services.settings.forward_timeout_seconds + 5)
            self.services.close()
            log.info("worker %s stopped", self.name)

    def _on_signal(self, signum, _frame) -> None:
        log.info("worker %s got signal %d, stopping", self.name, signum)
        self.stop.set()
        self.wakeup.ring()
