"""Shared bench plumbing: knobs, databases, seeded runs, percentiles, RSS and result files."""

from __future__ import annotations

import contextlib
import json
import math
import os
import uuid
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from app.runs.tokens import callback_path
from app.store.engine import build_engine, write
from app.store.tables import runs
from tests.support.processes import ROOT
from tests.support.run_rows import new_run_row
from tests.support.stack import API_KEY, RELAY_SECRET, STORED_ACTION

__all__ = ["API_KEY", "RELAY_SECRET", "STORED_ACTION"]  # what the launched relay is set up with
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
RESULTS_DIR = ROOT / "instance" / "bench"


def quick() -> bool:
    """BENCH_QUICK=1: a smoke version with fewer runs and shorter loads."""
    return os.environ.get("BENCH_QUICK", "") not in ("", "0")


def percentile(values, p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


def summary(values) -> dict:
    values = list(values)
    if not values:
        return {"n": 0, "p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": max(values),
        "mean": sum(values) / len(values),
    }


def rss_mib(pid: int) -> float:
    """Resident set size of one process, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmRSS for pid {pid}")


def child_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        return [int(p) for p in children.read_text().split()]
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


@contextlib.contextmanager
def database(kind: str, workdir: Path):
    """A fresh relay database URL: a SQLite file, or a PostgreSQL database created and dropped."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / f'relay-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = build_engine(PG_ADMIN_URL, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed_waiting_runs(db_url: str, count: int, now: float, first_poll_in: float = 86400.0):
    """`count` stored-action runs already accepted upstream and awaiting their callback.

    Returns (run id, upstream run id) pairs. Inserted directly: the ingest and latency
    benchmarks measure callbacks, not submissions.
    """
    pairs = [(str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(count)]
    rows = [
        new_run_row(
            run_id,
            now,
            state="submitted",
            upstream_run_id=upstream_id,
            submitted_at=now,
            next_poll_at=now + first_poll_in,
            submit_attempts=1,
        )
        for run_id, upstream_id in pairs
    ]
    engine = build_engine(db_url, pool_size=1)
    try:
        for start in range(0, len(rows), 2000):
            with write(engine) as conn:
                conn.execute(insert(runs), rows[start : start + 2000])
    finally:
        engine.dispose()
    return pairs


def callback_request(run_id: str, upstream_id: str, n: int = 0) -> tuple[str, str]:
    """(path, body) of the success callback upstream would send for this run."""
    body = {
        "type": "run",
        "id": upstream_id,
        "status": "success",
        "results": [{"id": n, "message": "bench"}],
        "errors": [],
    }
    return callback_path(RELAY_SECRET, run_id), json.dumps(body, separators=(",", ":"))


def save_result(name: str, data: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=1, default=str))
    return path


def load_result(name: str) -> dict | None:
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None
