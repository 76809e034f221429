"""(c) cross-check: the same poll fallback in real time (worker + sandbox), then simulated."""

from __future__ import annotations

import time
from pathlib import Path

import requests
from sqlalchemy import func, select

from app.store.engine import build_engine, read
from app.store.tables import runs, upstream_calls
from bench.common import database, summary
from bench.polling_sim import SimRun, simulate
from bench.stack import live_stack, run_times, trigger
from tests.support.processes import wait_for

# Polling only, as in the simulated workloads: every run is polled from its submission on.
SETTINGS = {"CALLBACKS": "off"}


def relay_view(db_url: str) -> dict[str, dict]:
    """Per run: submission, settlement, its upstream id and the GETs it cost."""
    engine = build_engine(db_url, pool_size=1)
    gets = (
        select(upstream_calls.c.run_id, func.count())
        .where(upstream_calls.c.operation == "get_stored_action_run")
        .group_by(upstream_calls.c.run_id)
    )
    try:
        with read(engine) as conn:
            counted = dict(conn.execute(gets).all())
            return {
                row.id: {
                    "state": row.state,
                    "submitted_at": row.submitted_at,
                    "settled_at": row.settled_at,
                    "upstream": row.upstream_run_id,
                    "gets": counted.get(row.id, 0),
                }
                for row in conn.execute(select(runs))
            }
    finally:
        engine.dispose()


def live_run(workdir: Path, count: int, longest: float = 30) -> dict:
    """`count` runs of 1-`longest` s with every callback dropped, polled by a real worker."""
    knobs = {"callback_drop": 1, "run_seconds": 1, "run_seconds_max": longest}
    with (
        database("sqlite", workdir) as db_url,
        live_stack(workdir, db_url, knobs, forward=False, **SETTINGS) as (sandbox, relay, _),
    ):
        with requests.Session() as session:
            for _ in range(count):
                trigger(relay, session).raise_for_status()

        def all_settled():
            view = relay_view(db_url)
            return view if all(r["settled_at"] for r in view.values()) else None

        real = wait_for(all_settled, deadline_seconds=180, interval=1.0)
        done_at = {up: times[1] for up, times in run_times(sandbox).items()}
    order = sorted(real.values(), key=lambda r: r["submitted_at"])
    specs = [SimRun(r["submitted_at"], done_at[r["upstream"]]) for r in order]
    simulated = simulate(specs, workdir, **SETTINGS)["runs"]
    pairs = []
    for r, sim, spec in zip(order, simulated, specs, strict=True):
        pairs.append(
            {
                "duration": spec.ready_at - spec.submit_at,
                "real_gets": r["gets"],
                "sim_gets": sim["gets"],
                "real_delay": r["settled_at"] - spec.ready_at,
                "sim_delay": sim["delay"],
            }
        )
    lag = [p["real_delay"] - p["sim_delay"] for p in pairs if p["real_gets"] == p["sim_gets"]]
    return {
        "runs": count,
        "longest": longest,
        "settings": SETTINGS,
        "states": sorted({r["state"] for r in real.values()}),
        "pairs": pairs,
        "comparison": {
            "gets_real": sum(p["real_gets"] for p in pairs),
            "gets_sim": sum(p["sim_gets"] for p in pairs),
            "runs_with_other_gets": sum(p["real_gets"] != p["sim_gets"] for p in pairs),
            "delay_real_minus_sim_s": summary(lag),
        },
        "measured_at": time.time(),
    }
