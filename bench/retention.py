"""(g) Retention: bytes per run with 3 targets, and the database size while runs keep flowing
through a real relay whose retention window is a minute (SQLite and PostgreSQL)."""

from __future__ import annotations

import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import func, select, text

from app.config.settings import SANDBOX_FORWARD_SECRET
from app.store import retention_repo
from app.store.engine import is_sqlite, read
from app.store.tables import metadata, runs
from bench.common import database, quick, save_result
from bench.stack import Receiver, live_stack, trigger
from tests.support.processes import free_port

UNLIMITED = "1000000"  # the budget is not measured here: runs must not wait for a window
KNOBS = {"run_limit": 10**6, "run_seconds": 0.05}
TARGETS = 3
CLIENTS = 8


def db_size(engine) -> dict:
    """Bytes in use by the relay's tables (with indexes), and the files' size on disk."""
    with read(engine) as conn:
        if is_sqlite(engine):
            page = conn.execute(text("PRAGMA page_size")).scalar_one()
            pages = conn.execute(text("PRAGMA page_count")).scalar_one()
            free = conn.execute(text("PRAGMA freelist_count")).scalar_one()
            path = Path(engine.url.database)
            wal = path.with_name(path.name + "-wal")
            disk = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
            return {"used": (pages - free) * page, "disk": disk}
        names = ", ".join(f"'{table.name}'" for table in metadata.sorted_tables)
        used = conn.execute(
            text(
                f"SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relname IN ({names}) AND c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace"
            )
        ).scalar_one()
        disk = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        return {"used": int(used), "disk": int(disk)}


def run_count(engine) -> int:
    with read(engine) as conn:
        return conn.execute(select(func.count()).select_from(runs)).scalar_one()


class Load:
    """Triggers runs at `rate` per second from a few client threads until stopped."""

    def __init__(self, relay, rate: float):
        self.relay, self.rate = relay, rate
        self.sent, self.failed = 0, 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.local = threading.local()
        self.thread = threading.Thread(target=self._pace, daemon=True)

    def _one(self, _index: int) -> None:
        session = getattr(self.local, "session", None) or requests.Session()
        self.local.session = session
        try:
            ok = trigger(self.relay, session).status_code == 202
        except requests.RequestException:
            ok = False
        with self.lock:
            self.sent += ok
            self.failed += not ok

    def _pace(self) -> None:
        started, index = time.monotonic(), 0
        with ThreadPoolExecutor(CLIENTS) as pool:
            while not self.stop.is_set():
                index += 1
                pool.submit(self._one, index)
                self.stop.wait(max(0.0, started + index / self.rate - time.monotonic()))

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        self.thread.join()


def stack(workdir: Path, db_url: str, receiver: Receiver, **settings):
    urls = ",".join(receiver.url_for(f"/t{i}") for i in range(TARGETS))
    budget = {"ZAPIER_RUN_LIMIT": UNLIMITED, "ZAPIER_GET_LIMIT": UNLIMITED}
    return live_stack(
        workdir, db_url, KNOBS, forward=False, FORWARD_URLS=urls, **budget, **settings
    )


def sizing(kind: str, workdir: Path, count: int) -> dict:
    """`count` runs, each called back and forwarded to 3 targets, with retention off; then the
    same rows purged by the store, batch by batch, timing each batch (its write lock)."""
    receiver = Receiver(SANDBOX_FORWARD_SECRET).start()
    try:
        with (
            database(kind, workdir) as db_url,
            stack(workdir, db_url, receiver, RETENTION_DAYS="0") as (_s, relay, _r),
        ):
            before = db_size(relay.engine)
            with Load(relay, rate=50.0) as load:
                while load.sent + load.failed < count:
                    time.sleep(0.05)
                load.stop.set()
            if not receiver.wait_for_count(load.sent * TARGETS, timeout=120 + count):
                raise RuntimeError(f"{receiver.count()} of {load.sent * TARGETS} forwards arrived")
            time.sleep(1.0)  # the last deliveries' outcomes are written after the answer
            after = db_size(relay.engine)
            batches = []
            cutoff = time.time() + 1
            while True:
                started = time.perf_counter()
                purged = retention_repo.purge_batch(relay.engine, cutoff)
                if not purged:
                    break
                batches.append({"ms": (time.perf_counter() - started) * 1000, **purged})
            purged_size = db_size(relay.engine)
    finally:
        receiver.close()
    runs_made = load.sent
    return {
        "runs": runs_made,
        "targets": TARGETS,
        "before": before,
        "after": after,
        "after_purge": purged_size,
        "bytes_per_run": (after["used"] - before["used"]) / runs_made,
        "batches": batches,
    }


def soak(kind: str, workdir: Path, window_s: float, seconds: float, every_s: float, rate: float):
    """Runs at `rate` per second for `seconds` with a `window_s` retention; size every `every_s`."""
    receiver = Receiver(SANDBOX_FORWARD_SECRET).start()
    metrics_port = free_port()
    days = f"{window_s / 86400:.10f}"
    points = []
    try:
        with (
            database(kind, workdir) as db_url,
            stack(
                workdir,
                db_url,
                receiver,
                RETENTION_DAYS=days,
                WORKER_METRICS_PORT=str(metrics_port),
            ) as (_s, relay, _r),
        ):
            started = time.monotonic()
            with Load(relay, rate) as load:
                while (at := time.monotonic() - started) <= seconds + 0.5:
                    point = {
                        "at_s": at,
                        "triggered": load.sent,
                        "runs_in_db": run_count(relay.engine),
                        **db_size(relay.engine),
                    }
                    points.append(point)
                    print(
                        kind,
                        {k: round(v, 1) if isinstance(v, float) else v for k, v in point.items()},
                        flush=True,
                    )
                    time.sleep(max(0.0, started + len(points) * every_s - time.monotonic()))
            purged = _purged_rows(metrics_port)
            failed = load.failed
    finally:
        receiver.close()
    return {
        "window_s": window_s,
        "rate": rate,
        "points": points,
        "purged": purged,
        "failed": failed,
        "forwards": receiver.count(),
    }


def _purged_rows(port: int) -> dict[str, float]:
    """relay_purged_rows_total by table, from the worker's own /metrics."""
    answer = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    found = {}
    for line in answer.splitlines():
        if line.startswith("relay_purged_rows_total{"):
            labels, value = line.rsplit(" ", 1)
            found[labels.split('"')[1]] = float(value)
    return found


def main() -> None:
    count = 200 if quick() else 1000
    window, seconds, every = (15.0, 60.0, 10.0) if quick() else (60.0, 300.0, 30.0)
    result = {"sizing": {}, "soak": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("sqlite", "postgres"):
            (Path(tmp) / kind).mkdir()
            result["sizing"][kind] = sizing(kind, Path(tmp) / kind, count)
            print(
                kind,
                "sizing",
                {k: v for k, v in result["sizing"][kind].items() if k != "batches"},
                flush=True,
            )
        for kind in ("sqlite", "postgres"):
            (Path(tmp) / f"soak-{kind}").mkdir()
            result["soak"][kind] = soak(
                kind, Path(tmp) / f"soak-{kind}", window, seconds, every, rate=10.0
            )
    save_result("retention", result)


if __name__ == "__main__":
    main()
