"""(d) Trigger burst: many triggers at once against the 200-per-window run POST budget."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import select

from app.store.engine import build_engine, read
from app.store.tables import runs
from bench.common import quick, save_result, summary
from bench.stack import Relay, scratch_stack, trigger

RUN_LIMIT = 200  # the relay's default ZAPIER_RUN_LIMIT and the sandbox's default run_limit
CLIENTS = 64


def fire(relay: Relay, count: int) -> tuple[list[dict], float]:
    """`count` triggers from CLIENTS threads at once; each answer's status, run id and latency."""
    local = threading.local()
    gate = threading.Barrier(CLIENTS)

    def one(index: int) -> dict:
        if index < CLIENTS:
            gate.wait()  # the first wave leaves together
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.time()
        answer = trigger(relay, session, metadata={"n": index})
        run_id = answer.json()["data"]["id"] if answer.status_code == 202 else None
        return {
            "status": answer.status_code,
            "run_id": run_id,
            "sent": started,
            "answered": time.time(),
        }

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        answers = list(pool.map(one, range(count)))
    first = min(a["sent"] for a in answers)
    return answers, first


def relay_runs(db_url: str) -> list[dict]:
    engine = build_engine(db_url, pool_size=1)
    try:
        with read(engine) as conn:
            return [dict(row) for row in conn.execute(select(runs)).mappings()]
    finally:
        engine.dispose()


def run() -> dict:
    count, window = (500, 10.0) if quick() else (1000, 30.0)
    knobs = {"run_seconds": 0.5, "window_seconds": window, "run_limit": RUN_LIMIT}
    limits = {"ZAPIER_RUN_LIMIT": RUN_LIMIT, "ZAPIER_RATE_WINDOW_SECONDS": window}
    with scratch_stack("bench-burst-", knobs, **limits) as (db_url, sandbox, relay, receiver):
        answers, first = fire(relay, count)
        windows_needed = math.ceil(count / RUN_LIMIT) + 2
        arrived = receiver.wait_for_count(count, timeout=windows_needed * window + 120)
        time.sleep(window if arrived else 0)  # room for a late duplicate to show up
        stats = sandbox.stats()
        stored = relay_runs(db_url)
    ids = [a["run_id"] for a in answers if a["run_id"]]
    submitted = sorted(r["submitted_at"] - first for r in stored if r["submitted_at"])
    forwards = receiver.by_run()
    rate = stats["rate"]["run"]
    return {
        "triggers": count,
        "clients": CLIENTS,
        "window_seconds": window,
        "run_limit": RUN_LIMIT,
        "statuses": dict(Counter(a["status"] for a in answers)),
        "answer_ms": summary((a["answered"] - a["sent"]) * 1000 for a in answers),
        "all_answered_s": max(a["answered"] for a in answers) - first,
        "distinct_runs": len(set(ids)),
        "relay_states": dict(Counter(r["state"] for r in stored)),
        "upstream_runs": stats["runs"].get("stored_action", 0),
        "distinct_upstream_ids": len(
            {r["upstream_run_id"] for r in stored if r["upstream_run_id"]}
        ),
        "upstream_admitted_per_window": [w["admitted"] for w in rate["windows"]],
        "window_starts_s": [w["start"] - first for w in rate["windows"]],
        "upstream_max_per_window": rate["max_per_window"],
        "upstream_429": rate["answered_429"],
        "last_submitted_s": submitted[-1] if submitted else None,
        "submitted_s": submitted,
        "forwarded_runs": len(forwards),
        "forwards_missing": len(set(ids) - set(forwards)),
        "duplicates": receiver.duplicates(),
    }


if __name__ == "__main__":
    save_result("burst", run())
