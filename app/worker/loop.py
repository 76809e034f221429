"""The worker process and its lanes: upstream threads (submit, poll, watch), the delivery
engine, and maintenance (retention), so a hung upstream cannot delay forwards, a dead subscriber
cannot delay polls, and a purge delays neither."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time

from app.delivery.engine import DeliveryEngine
from app.store import due_work_repo
from app.store.engine import DatabaseError, read
from app.store.wakeup import Wakeup, start_listener
from app.worker.maintenance import MaintenanceLane
from app.worker.tasks import poll_one, submit_one, watch_one

log = logging.getLogger(__name__)
# While the wake-up watch is down (a lost LISTEN connection), idle threads poll this often.
SHORT_POLL_SECONDS = 0.2
MIN_WAIT_SECONDS = 0.005
UPSTREAM_TASKS = (submit_one, poll_one, watch_one)
# An upstream call ends within the client's deadline; past this a thread is left behind.
UPSTREAM_JOIN_SECONDS = 5.0


class Worker:
    def __init__(self, services):
        self.services = services
        self.stop = threading.Event()
        self.upstream_wakeup = Wakeup()
        self.delivery_wakeup = Wakeup()
        self.listener = None
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def run_pass(self, owner: str) -> bool:
        """One pass over every kind of upstream work; True if anything was done."""
        did = False
        for task in UPSTREAM_TASKS:
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

    def _upstream_thread(self, index: int) -> None:
        owner = f"{self.name}:{index}"
        while not self.stop.is_set():
            rings = self.upstream_wakeup.rings  # before the pass: work landing meanwhile counts
            if not self.run_pass(owner):
                self._sleep_until_work(rings)

    def _sleep_until_work(self, rings: int) -> None:
        """Until new work rings or timed work comes due. A wait that ends with neither (the
        WORKER_IDLE_SECONDS bound) only looks again for due work, which is one read: an idle
        worker takes no claim, so no write lock, until there is work."""
        while not self.stop.is_set():
            seconds, due_at, trusted = self._idle_wait()
            if self.upstream_wakeup.wait(seconds, since=rings):
                return  # new work
            if not trusted or (due_at is not None and due_at <= time.time()):
                return  # timed work is due, or no wake-up to trust: a pass

    def _idle_wait(self) -> tuple[float, float | None, bool]:
        """(seconds to wait, the next timed item's due time, whether the wake-up can be
        trusted): until the next timed item is due, as new work rings the wake-up before
        that. A lost wake-up watch means no rings: poll briefly until it is back."""
        idle = self.services.settings.worker_idle_seconds
        if self.listener is not None and not self.upstream_wakeup.listening.is_set():
            return min(idle, SHORT_POLL_SECONDS), None, False
        try:
            with read(self.services.engine) as conn:
                due_at = due_work_repo.next_upstream_due_at(conn)
        except DatabaseError:
            return min(idle, 1.0), None, False
        if due_at is None:
            return idle, None, True
        return min(idle, max(MIN_WAIT_SECONDS, due_at - time.time())), due_at, True

    def serve(self) -> None:
        """Run until SIGTERM or SIGINT; in-flight work finishes or is handed back, whole."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        settings = self.services.settings
        engine = DeliveryEngine(self.services, f"{self.name}:d", self.delivery_wakeup, self.stop)
        threads = [
            threading.Thread(target=self._upstream_thread, args=(i,), name=f"upstream-{i}")
            for i in range(settings.worker_threads)
        ]
        threads.append(threading.Thread(target=engine.run, name="deliveries"))
        maintenance = MaintenanceLane(self.services, self.stop)
        if maintenance.enabled:
            threads.append(threading.Thread(target=maintenance.run, name="maintenance"))
        log.info(
            "worker %s started: %d upstream threads, up to %d forwards in flight, retention %s"
            " (%s mode)",
            self.name,
            settings.worker_threads,
            settings.forward_max_in_flight,
            f"{settings.retention_days:g} days" if maintenance.retaining else "off",
            settings.mode,
        )
        self.listener = start_listener(
            self.services.engine, (self.upstream_wakeup, self.delivery_wakeup), self.stop
        )
        for thread in threads:
            thread.daemon = True
            thread.start()
        try:
            # A bounded wait, so the signal handler runs promptly in the main thread.
            while not self.stop.is_set():
                self.stop.wait(1.0)
        finally:
            # One deadline for all of them, not one each: a stop takes seconds, not minutes.
            deadline = time.monotonic() + UPSTREAM_JOIN_SECONDS
            for thread in threads:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
            self.services.close()
            log.info("worker %s stopped", self.name)

    def _on_signal(self, signum, _frame) -> None:
        log.info("worker %s got signal %d, stopping", self.name, signum)
        self.stop.set()
        self.upstream_wakeup.ring()
        self.delivery_wakeup.ring()
