"""(e) Memory: RSS of the web workers and of the worker process over many runs, real processes."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from app.store.engine import build_engine, read
from app.store.tables import runs
from bench.common import quick, rss_mib, save_result
from bench.stack import Relay, Sandbox, scratch_stack, trigger, web_worker_pids

UNLIMITED = 10**6  # memory, not the budget: submissions must not wait for a window
CLIENTS = 8
FLAT_PERCENT = 5.0  # "flat": less growth than this from the first checkpoint to the last


def trigger_batch(relay: Relay, count: int, offset: int) -> Counter:
    local = threading.local()

    def one(index: int) -> int:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        return trigger(relay, session, metadata={"n": index}).status_code

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return Counter(pool.map(one, range(offset, offset + count)))


def sample(relay: Relay, sandbox: Sandbox, done: int, started: float) -> dict:
    point = {"runs": done, "at_s": time.monotonic() - started}
    for index, pid in enumerate(sorted(web_worker_pids(relay))):
        point[f"web{index}"] = rss_mib(pid)
    point["worker"] = rss_mib(relay.workers[0].proc.pid)
    point["sandbox"] = rss_mib(sandbox.child.proc.pid)
    return point


def states(db_url: str) -> dict:
    engine = build_engine(db_url, pool_size=1)
    try:
        with read(engine) as conn:
            return dict(conn.execute(select(runs.c.state, func.count()).group_by("state")).all())
    finally:
        engine.dispose()


def slope(points: list[dict], name: str) -> float:
    """Least-squares MiB per 1,000 runs over the checkpoints."""
    xs, ys = [p["runs"] / 1000 for p in points], [p[name] for p in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / spread


def growth(points: list[dict], name: str) -> dict:
    loaded = points[1:]  # points[0] is before any traffic: imports and pools are not warm yet
    first, last = loaded[0][name], loaded[-1][name]
    change = 100.0 * (last - first) / first
    return {
        "first_mib": first,
        "last_mib": last,
        "growth_mib": last - first,
        "growth_percent": change,
        "mib_per_1000_runs": slope(loaded, name),
        "flat": change < FLAT_PERCENT,
    }


def run() -> dict:
    total, step = (1000, 200) if quick() else (10000, 2000)
    statuses: Counter = Counter()
    knobs = {"run_seconds": 0.05, "run_limit": UNLIMITED, "get_limit": UNLIMITED}
    limits = {"ZAPIER_RUN_LIMIT": UNLIMITED, "ZAPIER_GET_LIMIT": UNLIMITED}
    with scratch_stack("bench-memory-", knobs, **limits) as (db_url, sandbox, relay, receiver):
        started = time.monotonic()
        points = [sample(relay, sandbox, 0, started)]
        for done in range(step, total + 1, step):
            statuses += trigger_batch(relay, step, done - step)
            if not receiver.wait_for_count(done, timeout=300):
                raise RuntimeError(f"only {receiver.count()} of {done} forwards arrived")
            points.append(sample(relay, sandbox, done, started))
            print(f"memory: {points[-1]}", flush=True)
        final_states = states(db_url)
    processes = [name for name in points[0] if name not in ("runs", "at_s")]
    return {
        "runs": total,
        "checkpoint_every": step,
        "clients": CLIENTS,
        "statuses": dict(statuses),
        "states": final_states,
        "forwarded_runs": len(receiver.by_run()),
        "duplicates": receiver.duplicates(),
        "points": points,
        "growth": {name: growth(points, name) for name in processes},
        "seconds": points[-1]["at_s"],
    }


if __name__ == "__main__":
    save_result("memory", run())
