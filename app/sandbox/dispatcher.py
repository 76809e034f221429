"""The per-process callback sender: claims due callbacks from the shared queue and POSTs them."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import Engine

from app.sandbox import callback_queue
from app.sandbox.signing import SIGNATURE_HEADER, SigningKey
from app.store.engine import read, write

log = logging.getLogger(__name__)

# Zapier retries a callback only on a 5xx or a network error, at most 3 attempts within
# seconds, never on a 4xx.
MAX_ATTEMPTS = 3
RETRY_DELAYS = (0.25, 0.75)
SEND_TIMEOUT_SECONDS = 5.0
# Longer than a send can take, so a live sender never loses its lease; a dead process's
# claims come back after it.
LEASE_SECONDS = 30.0
# An idle dispatcher sleeps until the earliest pending callback is due, at most this long (a
# callback queued by another process is seen then; this process's own wake it at once).
IDLE_MAX_SECONDS = 2.0
IDLE_MIN_SECONDS = 0.01
ERROR_PAUSE_SECONDS = 1.0
HOUSEKEEPING_EVERY_SECONDS = 60.0
SENDERS = 8


class Dispatcher:
    """One claiming thread plus a few sender threads; start after forking, stop to join them."""

    def __init__(
        self,
        engine: Engine,
        signing_key: Callable[[], SigningKey],
        clock: Callable[[], float] = time.time,
        housekeeping: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._signing_key = signing_key
        self._clock = clock
        self._housekeeping = housekeeping
        self._owner = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._slots = threading.BoundedSemaphore(SENDERS)
        self._senders = ThreadPoolExecutor(SENDERS, thread_name_prefix="sandbox-callback")
        self._thread = threading.Thread(target=self._loop, name="sandbox-dispatcher", daemon=True)
        self._next_housekeeping = 0.0

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """A callback may be due sooner than the next idle check: look now."""
        self._wake.set()

    def stop(self, timeout: float = SEND_TIMEOUT_SECONDS + 1) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._senders.shutdown(wait=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._housekeep()
                busy = self._dispatch_one()
            except Exception:
                log.exception("sandbox callback dispatcher: pass failed; pausing")
                self._stop.wait(ERROR_PAUSE_SECONDS)
                continue
            if not busy:
                self._wake.wait(self._idle_seconds())

    def _idle_seconds(self) -> float:
        try:
            with read(self._engine) as conn:
                due_at = callback_queue.next_due_at(conn)
        except Exception:
            log.exception("sandbox callback dispatcher: could not read the queue")
            return ERROR_PAUSE_SECONDS
        if due_at is None:
            return IDLE_MAX_SECONDS
        return min(IDLE_MAX_SECONDS, max(IDLE_MIN_SECONDS, due_at - self._clock()))

    def _housekeep(self) -> None:
        now = time.monotonic()
        if self._housekeeping is None or now < self._next_housekeeping:
            return
        self._next_housekeeping = now + HOUSEKEEPING_EVERY_SECONDS
        self._housekeeping()

    def _dispatch_one(self) -> bool:
        """Claim one due callback and hand it to a sender; False when there was none to take."""
        if not self._slots.acquire(blocking=False):
            return False
        claimed = None
        try:
            now = self._clock()
            with read(self._engine) as conn:
                due = callback_queue.any_due(conn, now)
            if due:
                with write(self._engine) as conn:
                    claimed = callback_queue.claim_due(conn, self._owner, now, LEASE_SECONDS)
            if claimed is not None:
                self._senders.submit(self._deliver, claimed)
        finally:
            if claimed is None:
                self._slots.release()
        return claimed is not None

    def _deliver(self, claimed: callback_queue.ClaimedCallback) -> None:
        try:
            status, error = self._post(claimed)
            self._settle(claimed, status, error)
        except Exception:
            log.exception("sandbox callback %s: could not settle", claimed.id)
        finally:
            self._slots.release()
            self._wake.set()  # the run's next callback may be waiting for this one

    def _post(self, claimed: callback_queue.ClaimedCallback) -> tuple[int | None, str | None]:
        # Signed with the real time, whatever the clock: receivers check exp against theirs.
        token = self._signing_key().sign_callback(claimed.run_id, time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "callback-relay-sandbox",
            SIGNATURE_HEADER: token,
        }
        try:
            response = requests.post(
                claimed.url,
                data=claimed.body.encode(),
                headers=headers,
                timeout=SEND_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        return response.status_code, None

    def _settle(self, claimed, status: int | None, error: str | None) -> None:
        now = self._clock()
        retry_at = None
        if status is not None and 200 <= status < 300:
            state = "sent"
        elif (status is None or status >= 500) and claimed.attempts < MAX_ATTEMPTS:
            state, retry_at = "pending", now + RETRY_DELAYS[claimed.attempts - 1]
        else:
            state = "failed"
        with write(self._engine) as conn:
            callback_queue.record_attempt(
                conn,
                claimed.id,
                self._owner,
                state=state,
                status=status,
                error=error,
                now=now,
                retry_at=retry_at,
            )
        if state == "failed":
            log.info(
                "sandbox callback %s to %s failed: %s", claimed.id, claimed.url, status or error
            )
