"""Work-landed signals that wake idle workers at once: NOTIFY on PostgreSQL; on SQLite, a
watch on PRAGMA data_version, which moves whenever another connection commits a change."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
CHANNEL = "relay_work"
RECONNECT_SECONDS = 1.0
# A read of one counter, no lock taken: cheap enough to ask 50 times a second while work
# flows. After a quiet spell it is asked 10 times a second, so an idle worker costs well under
# 1% of a core; the first commit after the quiet is seen within 0.1 s, the rest within 0.02 s.
SQLITE_WATCH_SECONDS = 0.02
SQLITE_IDLE_WATCH_SECONDS = 0.1
SQLITE_QUIET_AFTER_SECONDS = 5.0


def notify_work(conn) -> None:
    """Ring the workers when this transaction commits (PostgreSQL folds repeats into one).

    On SQLite the commit itself is the signal (see _watch_sqlite)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


class Wakeup:
    """Idle worker threads wait here; a NOTIFY (or a stop) wakes all of them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._rings = 0
        self.listening = threading.Event()

    @property
    def rings(self) -> int:
        return self._rings

    def ring(self) -> None:
        with self._cond:
            self._rings += 1
            self._cond.notify_all()

    def wait(self, timeout: float, since: int | None = None) -> bool:
        """True when rung after the count `since` (default: now) before `timeout` passed.

        Pass the count read before looking for work: a ring that came while the thread was
        busy then ends the wait at once instead of being slept through.
        """
        with self._cond:
            seen = self._rings if since is None else since
            return self._cond.wait_for(lambda: self._rings != seen, timeout)


class Wakeups:
    """Several Wakeups rung as one: each lane of a worker waits on its own."""

    def __init__(self, wakeups):
        self.wakeups = tuple(wakeups)

    def ring(self) -> None:
        for wakeup in self.wakeups:
            wakeup.ring()

    def set_listening(self, on: bool) -> None:
        for wakeup in self.wakeups:
            (wakeup.listening.set if on else wakeup.listening.clear)()


def start_listener(engine: Engine, wakeups, stop: threading.Event):
    """A thread that rings `wakeups` when work may have landed; None for in-memory SQLite."""
    wakeup = Wakeups(wakeups if isinstance(wakeups, tuple | list) else (wakeups,))
    url = make_url(engine.url)
    if engine.dialect.name == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        target, args = _listen, (dsn, wakeup, stop)
    elif url.database and url.database != ":memory:":
        target, args = _watch_sqlite, (url.database, wakeup, stop)
    else:
        return None
    thread = threading.Thread(target=target, args=args, name="relay-listen", daemon=True)
    thread.start()
    return thread


def _watch_sqlite(path: str, wakeup: Wakeups, stop: threading.Event) -> None:
    """Ring when another connection (a web process storing a callback) committed a change.

    A commit that changed nothing (a claim that found no work) leaves data_version alone, so
    idle workers do not wake each other up in a loop.
    """
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    try:
        seen = conn.execute("PRAGMA data_version").fetchone()[0]
        wakeup.set_listening(True)
        log.info("watching the SQLite database for commits: idle workers wake at once")
        last_change = time.monotonic()
        while not stop.wait(
            SQLITE_WATCH_SECONDS
            if time.monotonic() - last_change < SQLITE_QUIET_AFTER_SECONDS
            else SQLITE_IDLE_WATCH_SECONDS
        ):
            try:
                version = conn.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error as err:
                log.warning("SQLite change watch failed (%s); idle workers poll", err)
                wakeup.set_listening(False)
                continue
            wakeup.set_listening(True)
            if version != seen:
                seen, last_change = version, time.monotonic()
                wakeup.ring()
    finally:
        wakeup.set_listening(False)
        conn.close()


def _listen(dsn: str, wakeup: Wakeups, stop: threading.Event) -> None:
    import psycopg

    while not stop.is_set():
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                wakeup.set_listening(True)
                log.info("listening on PostgreSQL channel %s: idle workers wake at once", CHANNEL)
                wakeup.ring()  # work may have landed while we were not listening
                while not stop.is_set():
                    for _ in conn.notifies(timeout=1.0, stop_after=1):
                        wakeup.ring()
        except psycopg.Error as err:
            wakeup.set_listening(False)
            log.warning("LISTEN connection lost (%s); idle workers poll until it is back", err)
            stop.wait(RECONNECT_SECONDS)
    wakeup.set_listening(False)
