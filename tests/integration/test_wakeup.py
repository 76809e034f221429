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


def test_a_sqlite_commit_from_another_connection_rings_and_a_no_op_does_not(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    watched, writer = build_engine(url), build_engine(url)
    with write(writer) as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    wakeup, stop = Wakeup(), threading.Event()
    thread = start_listener(watched, wakeup, stop)
    try:
        assert wait_for(wakeup.listening.is_set, 10)
        before = wakeup.rings
        with write(writer) as conn:  # a claim that finds nothing: no change, no ring
            conn.exec_driver_sql("UPDATE t SET v = 1 WHERE id = 99")
            notify_work(conn)  # a no-op on SQLite, not an error
        assert not wakeup.wait(0.3, since=before)
        with write(writer) as conn:  # a web process storing a callback
            conn.exec_driver_sql("INSERT INTO t (v) VALUES (1)")
        assert wakeup.wait(10, since=before)
    finally:
        stop.set()
        thread.join(timeout=5)
        watched.dispose()
        writer.dispose()
