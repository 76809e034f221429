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
from app.store.engine import build_engine, is_sqlite, read
from app.store.tables import metadata, runs
from bench.common import database, quick, save_result
from bench.stack import Receiver, live_stack, trigger
from tests.support.processes import free_port

UNLIMITED = "1000000"  # the budget is not measured here: runs must not wait for a window
KNOBS = {"run_limit": 10**6, "run_seconds": 0.05}
TARGETS = 3
CLIENTS = 8
SIZING_RATE = 20.0  # runs per second while the sizing set is made
SOAK_RATE = 10.0
TABLES = ", ".join(f"'{table.name}'" for table in metadata.sorted_tables)
PG_USED = (
    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relkind = 'r' "
    f"AND c.relnamespace = 'public'::regnamespace AND c.relname IN ({TABLES})"
)


def db_size(engine) -> dict:
    """Bytes of the relay's tables with their indexes ("used"; on SQLite less free pages), and
    of the database on disk (SQLite: the file and its WAL; PostgreSQL: pg_database_size)."""
    with read(engine) as conn:
        if is_sqlite(engine):
            page = conn.execute(text("PRAGMA page_size")).scalar_one()
            pages = conn.execute(text("PRAGMA page_count")).scalar_one()
            free = conn.execute(text("PRAGMA freelist_count")).scalar_one()
            path = Path(engine.url.database)
            wal = path.with_name(path.name + "-wal")
            disk = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
            return {"used": (pages - free) * page, "disk": disk}
        used = conn.execute(text(PG_USED)).scalar_one()
        disk = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        return {"used": int(used), "disk": int(disk)}


def vacuum(db_url: str, full: bool = False) -> None:
    """PostgreSQL's VACUUM on the relay's tables (what autovacuum does; FULL compacts them)."""
    engine = build_engine(db_url, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                conn.execute(text(f"VACUUM {'FULL ' if full else ''}{table.name}"))
    finally:
        engine.dispose()


def autovacuum_on(engine) -> bool:
    with read(engine) as conn:
        return conn.execute(text("SHOW autovacuum")).scalar_one() == "on"


def run_count(engine) -> int:
    with read(engine) as conn:
        return conn.execute(select(func.count()).select_from(runs)).scalar_one()


class Load:
    """Triggers `limit` runs (None: until stopped) at `rate` per second from a few threads."""

    def __init__(self, relay, rate: float, limit: int | None = None):
        self.relay, self.rate, self.limit = relay, rate, limit
        self.sent, self.failed = 0, 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.local = threading.local()
        self.thread = threading.Thread(target=self._pace, daemon=True)

    def _one(self) -> None:
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
            while not self.stop.is_set() and (self.limit is None or index < self.limit):
                index += 1
                pool.submit(self._one)
                self.stop.wait(max(0.0, started + index / self.rate - time.monotonic()))

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        if self.limit is None:
            self.stop.set()
        self.thread.join()


def stack(workdir: Path, db_url: str, receiver: Receiver, **settings):
    """The relay forwarding every run to 3 targets (3 FORWARD_URLS on one receiver)."""
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
            stack(workdir, db_url, receiver, RETENTION_DAYS="0") as (_sandbox, relay, _r),
        ):
            before = db_size(relay.engine)
            with Load(relay, SIZING_RATE, limit=count) as load:
                pass
            if not receiver.wait_for_count(load.sent * TARGETS, timeout=120 + count):
                raise RuntimeError(f"{receiver.count()} of {load.sent * TARGETS} forwards arrived")
            time.sleep(2.0)  # the last outcomes are written just after their answers
            written = db_size(relay.engine)
            if kind != "sqlite":
                vacuum(db_url, full=True)  # dead row versions out: the live data only
            after = db_size(relay.engine)
            batches, cutoff = [], time.time() + 1
            while True:
                started = time.perf_counter()
                purged = retention_repo.purge_batch(relay.engine, cutoff)
                if not purged:
                    break
                batches.append({"ms": (time.perf_counter() - started) * 1000, **purged})
            purged_size = db_size(relay.engine)
    finally:
        receiver.close()
    return {
        "runs": load.sent,
        "targets": TARGETS,
        "before": before,
        "written": written,
        "after": after,
        "after_purge": purged_size,
        "bytes_per_run": (after["used"] - before["used"]) / load.sent,
        "written_bytes_per_run": (written["used"] - before["used"]) / load.sent,
        "batch_limit": retention_repo.batch_limit(relay.engine),
        "batches": batches,
    }


def soak(kind: str, workdir: Path, window_s: float, seconds: float, every_s: float) -> dict:
    """Runs at SOAK_RATE for `seconds` with a `window_s` retention; the size every `every_s`.
    Where the server's autovacuum is off, a plain VACUUM every `every_s` stands in for it."""
    receiver = Receiver(SANDBOX_FORWARD_SECRET).start()
    metrics_port = free_port()
    settings = {"RETENTION_DAYS": f"{window_s / 86400:.10f}", "WORKER_METRICS_PORT": metrics_port}
    points = []
    try:
        with (
            database(kind, workdir) as db_url,
            stack(workdir, db_url, receiver, **settings) as (_sandbox, relay, _r),
        ):
            stand_in = kind != "sqlite" and not autovacuum_on(relay.engine)
            started = time.monotonic()
            with Load(relay, SOAK_RATE) as load:
                while (at := time.monotonic() - started) <= seconds + 0.5:
                    if stand_in and points:
                        vacuum(db_url)
                    point = {"at_s": at, "triggered": load.sent, "runs": run_count(relay.engine)}
                    points.append({**point, **db_size(relay.engine)})
                    print(kind, "soak", points[-1], flush=True)
                    time.sleep(max(0.0, started + len(points) * every_s - time.monotonic()))
            purged = purged_rows(metrics_port)
    finally:
        receiver.close()
    return {
        "window_s": window_s,
        "rate": SOAK_RATE,
        "vacuum": _vacuum_note(kind, stand_in),
        "points": points,
        "purged": purged,
        "failed": load.failed,
        "forwards": receiver.count(),
    }


def _vacuum_note(kind: str, stand_in: bool) -> str:
    if kind == "sqlite":
        return "none (SQLite reuses freed pages)"
    return "plain VACUUM by the bench (autovacuum off)" if stand_in else "the server's autovacuum"


def purged_rows(port: int) -> dict[str, float]:
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
    window, seconds, every = (15.0, 60.0, 10.0) if quick() else (45.0, 180.0, 20.0)
    result: dict = {"sizing": {}, "soak": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("sqlite", "postgres"):
            (Path(tmp) / kind).mkdir()
            result["sizing"][kind] = size = sizing(kind, Path(tmp) / kind, count)
            print(kind, "sizing", {k: v for k, v in size.items() if k != "batches"}, flush=True)
        for kind in ("sqlite", "postgres"):
            (Path(tmp) / f"soak-{kind}").mkdir()
            result["soak"][kind] = soak(kind, Path(tmp) / f"soak-{kind}", window, seconds, every)
    save_result("retention", result)


if __name__ == "__main__":
    main()
