"""Work-landed signals: NOTIFY on PostgreSQL so idle workers wake at once; nothing on SQLite."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
CHANNEL = "relay_work"
RECONNECT_SECONDS = 1.0


def notify_work(conn) -> None:
    """Ring the workers when this transaction commits (PostgreSQL folds repeats into one)."""
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


def start_listener(engine: Engine, wakeup: Wakeup, stop: threading.Event):
    """A thread holding one LISTEN connection; None on SQLite (workers keep a short poll)."""
    if engine.dialect.name != "postgresql":
        return None
    url = make_url(engine.url).set(drivername="postgresql")
    dsn = url.render_as_string(hide_password=False)
    thread = threading.Thread(
        target=_listen, args=(dsn, wakeup, stop), name="relay-listen", daemon=True
    )
    thread.start()
    return thread


def _listen(dsn: str, wakeup: Wakeup, stop: threading.Event) -> None:
    import psycopg

    while not stop.is_set():
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                wakeup.listening.set()
                log.info("listening on PostgreSQL channel %s: idle workers wake at once", CHANNEL)
                wakeup.ring()  # work may have landed while we were not listening
                while not stop.is_set():
                    for _ in conn.notifies(timeout=1.0, stop_after=1):
                        wakeup.ring()
        except psycopg.Error as err:
            wakeup.listening.clear()
            log.warning("LISTEN connection lost (%s); idle workers poll until it is back", err)
            stop.wait(RECONNECT_SECONDS)
    wakeup.listening.clear()
