"""LISTEN/NOTIFY on PostgreSQL: work landing wakes idle workers; SQLite has no listener."""

import threading

from app.store.engine import build_engine, write
from app.store.wakeup import Wakeup, notify_work, start_listener
from tests.support.processes import wait_for


def test_a_committed_notify_rings_the_listener_and_a_rolled_back_one_does_not(postgres_url):
    engine = build_engine(postgres_url)
    wakeup, stop = Wakeup(), threading.Event()
    thread = start_listener(engine, wakeup, stop)
    try:
        assert wait_for(wakeup.listening.is_set, 10)
        before = wakeup.rings
        try:
            with write(engine) as conn:
                notify_work(conn)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        with write(engine) as conn:
            notify_work(conn)
            notify_work(conn)  # folded into one by PostgreSQL
        assert wait_for(lambda: wakeup.rings > before, 10)
        assert wakeup.rings == before + 1
    finally:
        stop.set()
        thread.join(timeout=5)
        engine.dispose()


def test_a_ring_during_the_pass_is_not_slept_through():
    wakeup = Wakeup()
    rings = wakeup.rings  # read before looking for work
    wakeup.ring()  # work lands while the thread is busy
    assert wakeup.wait(60, since=rings)  # returns at once (a lost wake-up would block 60 s)
    assert not wakeup.wait(0.01)  # nothing new since now


def test_sqlite_has_no_listener(tmp_path):
    engine = build_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert start_listener(engine, Wakeup(), threading.Event()) is None
    with write(engine) as conn:
        notify_work(conn)  # a no-op, not an error
    engine.dispose()
