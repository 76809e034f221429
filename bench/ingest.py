"""(a) Callback ingest: accepted callbacks per second against a bare Flask app, same gunicorn."""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select

from app.store.engine import build_engine, read
from app.store.tables import callbacks, runs
from bench.common import callback_request, database, quick, save_result, seed_waiting_runs
from bench.loadgen import generator_name, post_load
from bench.stack import Relay

NOWHERE = "http://127.0.0.1:9"  # never contacted: no worker runs during the ingest load
WARMUP_SECONDS = 2.0
CONNECTIONS = 16  # WEB_CONCURRENCY 2 x WEB_THREADS 8, the production defaults


def stored_figures(db_url: str) -> dict:
    """What the database holds afterwards: callbacks per verdict and settled runs."""
    engine = build_engine(db_url, pool_size=1)
    try:
        with read(engine) as conn:
            verdicts = dict(
                conn.execute(select(callbacks.c.verdict, func.count()).group_by("verdict")).all()
            )
            settled = conn.execute(
                select(func.count()).select_from(runs).where(runs.c.state == "succeeded")
            ).scalar_one()
    finally:
        engine.dispose()
    return {"callbacks_by_verdict": verdicts, "stored": sum(verdicts.values()), "settled": settled}


def measure(target: str, workdir: Path, seconds: float, seed: int) -> dict:
    """One load run against the relay on `target` (sqlite/postgres) or the bare app (bare)."""
    kind = "sqlite" if target == "bare" else target
    with database(kind, workdir) as db_url:
        relay = Relay.live(workdir, db_url, f"{NOWHERE}/sandbox", forward_url=f"{NOWHERE}/hook")
        spec = "bench.bare_app:create_app()" if target == "bare" else "app:create_app()"
        relay.start(app_spec=spec, workers=0)
        try:
            if target == "bare":  # answers 204 to any run id: nothing to store first
                pairs = [(str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(seed + 500)]
            else:
                pairs = seed_waiting_runs(db_url, seed + 500, time.time())
            requests = [callback_request(r, u, n) for n, (r, u) in enumerate(pairs)]
            warm = post_load(relay.base, requests[:500], WARMUP_SECONDS, workdir, CONNECTIONS)
            figures = post_load(relay.base, requests[500:], seconds, workdir, CONNECTIONS)
        finally:
            relay.stop()
        figures["target"] = target
        if figures["non2xx"] or figures["socket_errors"]:
            raise RuntimeError(f"{target}: answers other than 2xx: {figures}; see {workdir}")
        if target != "bare":
            held = stored_figures(db_url)
            acked = figures["ok"] + warm["ok"]
            # wrk stops mid-flight: a few stored callbacks may have no counted answer, never
            # the other way round.
            held["acked"] = acked
            held["lost"] = max(0, acked - held["stored"])
            figures["durability"] = held
    return figures


def run() -> dict:
    seconds = 5.0 if quick() else 15.0
    rounds = 1 if quick() else 2
    seed = 6000 if quick() else 20000
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        for index in range(rounds):
            row = {}
            for target in ("bare", "sqlite", "postgres"):
                workdir = Path(tmp) / f"{target}-{index}"
                workdir.mkdir()
                row[target] = measure(target, workdir, seconds, seed)
                print(f"ingest round {index} {target}: {row[target]['rate']:.0f}/s", flush=True)
            results.append(row)
    return {
        "generator": generator_name(),
        "connections": CONNECTIONS,
        "seconds": seconds,
        "rounds": results,
    }


if __name__ == "__main__":
    save_result("ingest", run())
