"""(b) End-to-end latency to a subscriber: the callback path and the poll path, measured apart."""

from __future__ import annotations

import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import select

from app.store.engine import build_engine, read
from app.store.tables import callbacks, deliveries, delivery_attempts, runs, upstream_calls
from bench.common import callback_request, database, quick, save_result, seed_waiting_runs, summary
from bench.stack import Receiver, Relay, live_stack, run_times, subscriber, trigger

RATE = 25.0  # runs started per second, open loop: a steady stream, not a burst
FAST_IDLE = 0.02
UNLIMITED = 10**6  # this benchmark is about latency; (c) and (d) are about the budget


def paced(count: int, send) -> None:
    """Call `send(i)` for i in range(count) at RATE per second from a pool of threads."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for index in range(count):
            time.sleep(max(0.0, started + index / RATE - time.monotonic()))
            pool.submit(send, index)


def first_arrivals(receiver: Receiver, count: int) -> dict[str, dict]:
    if not receiver.wait_for_count(count, timeout=120 + count / 10):
        raise RuntimeError(f"only {receiver.count()} of {count} forwards arrived")
    return {run_id: arrivals[0] for run_id, arrivals in receiver.by_run().items()}


def pickup_times(db_url: str) -> dict[str, tuple[float, float, float]]:
    """Per run: callback stored at, first delivery attempt started at, and its latency (ms)."""
    engine = build_engine(db_url, pool_size=1)
    query = (
        select(
            callbacks.c.run_id,
            callbacks.c.received_at,
            delivery_attempts.c.attempted_at,
            delivery_attempts.c.latency_ms,
        )
        .join(deliveries, deliveries.c.run_id == callbacks.c.run_id)
        .join(delivery_attempts, delivery_attempts.c.delivery_id == deliveries.c.id)
        .order_by(delivery_attempts.c.id.desc())
    )
    try:
        with read(engine) as conn:
            return {row.run_id: tuple(row[1:]) for row in conn.execute(query)}
    finally:
        engine.dispose()


def callback_path(workdir: Path, count: int, kind: str = "sqlite", **env) -> dict:
    """The bench plays upstream: it POSTs each run's callback and times the forward's arrival."""
    receiver = subscriber()
    local = threading.local()
    sent: dict[str, tuple[float, float, int]] = {}
    with database(kind, workdir) as db_url:
        relay = Relay.live(
            workdir, db_url, "http://127.0.0.1:9/sandbox", forward_url=receiver.url, **env
        )
        relay.start(workers=1)
        try:
            pairs = seed_waiting_runs(db_url, count, time.time())

            def send(index: int) -> None:
                session = getattr(local, "session", None) or requests.Session()
                local.session = session
                run_id, upstream_id = pairs[index]
                path, body = callback_request(run_id, upstream_id, index)
                headers = {"Content-Type": "application/json"}
                started = time.time()
                answer = session.post(relay.base + path, data=body, headers=headers, timeout=30)
                sent[run_id] = (started, time.time() - started, answer.status_code)

            paced(count, send)
            arrivals = first_arrivals(receiver, count)
            stages = pickup_times(db_url)
        finally:
            relay.stop()
            receiver.close()
    # The worker's wait for the stored delivery, and the HTTP send as the worker timed it.
    pickup = [(attempt - stored) * 1000 for stored, attempt, _ in stages.values()]
    sending = [send_ms for _, _, send_ms in stages.values()]
    latencies = [(arrivals[run]["at"] - t0) * 1000 for run, (t0, _, _) in sent.items()]
    return {
        "runs": count,
        "forward_ms": summary(latencies),
        "ack_ms": summary(ack * 1000 for _, ack, _ in sent.values()),
        "stored_to_attempt_ms": summary(pickup),
        "attempt_send_ms": summary(sending),
        "statuses": sorted({status for _, _, status in sent.values()}),
        "duplicates": receiver.duplicates(),
        "forwards": receiver.count(),
        "samples_ms": latencies,
    }


def poll_times(db_url: str) -> dict[str, dict]:
    """Per relay run: its upstream id and when the poll that found its result was answered."""
    engine = build_engine(db_url, pool_size=1)
    try:
        with read(engine) as conn:
            found = {
                row.id: {"upstream": row.upstream_run_id, "source": row.source, "polls": []}
                for row in conn.execute(select(runs.c.id, runs.c.upstream_run_id, runs.c.source))
            }
            query = select(upstream_calls).where(upstream_calls.c.outcome == "result")
            for call in conn.execute(query):
                found[call.run_id]["polls"].append(call.at + (call.latency_ms or 0) / 1000)
    finally:
        engine.dispose()
    return found


def poll_path(workdir: Path, count: int) -> dict:
    """Every callback dropped; the relay polls every second after a 1 s grace and forwards."""
    knobs = {"callback_drop": 1, "run_seconds": 0.5, "get_limit": UNLIMITED, "run_limit": UNLIMITED}
    settings = {"CALLBACK_GRACE_SECONDS": 1, "POLL_MAX_INTERVAL_SECONDS": 1}
    settings |= {"ZAPIER_GET_LIMIT": UNLIMITED, "ZAPIER_RUN_LIMIT": UNLIMITED}
    local = threading.local()
    with (
        database("sqlite", workdir) as db_url,
        live_stack(workdir, db_url, knobs, **settings) as (sandbox, relay, receiver),
    ):

        def send(_index: int) -> None:
            session = getattr(local, "session", None) or requests.Session()
            local.session = session
            trigger(relay, session).raise_for_status()

        paced(count, send)
        arrivals = first_arrivals(receiver, count)
        ready = run_times(sandbox)
        polled = poll_times(db_url)
    from_ready, from_poll, sources = [], [], set()
    for run_id, arrival in arrivals.items():
        info = polled[run_id]
        sources.add(info["source"])
        from_ready.append((arrival["at"] - ready[info["upstream"]][1]) * 1000)
        from_poll.append((arrival["at"] - min(info["polls"])) * 1000)
    return {
        "runs": count,
        "ready_to_forward_ms": summary(from_ready),
        "poll_answer_to_forward_ms": summary(from_poll),
        "sources": sorted(s for s in sources if s),
        "duplicates": receiver.duplicates(),
        "forwards": receiver.count(),
        "samples_ms": from_ready,
        "poll_samples_ms": from_poll,
    }


def run() -> dict:
    count = 200 if quick() else 1000
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        for name in ("cb", "fast", "pg", "poll"):
            (Path(tmp) / name).mkdir()
        result = {"rate_per_s": RATE, "callback": callback_path(Path(tmp) / "cb", count)}
        print(f"latency callback path: {result['callback']['forward_ms']}", flush=True)
        # The same with the worker's idle pause at a tenth of its default: what the knob buys.
        fast = callback_path(Path(tmp) / "fast", count, WORKER_IDLE_SECONDS=FAST_IDLE)
        result["callback_fast"] = {**fast, "worker_idle_seconds": FAST_IDLE}
        result["callback_postgres"] = callback_path(Path(tmp) / "pg", count, kind="postgres")
        print(f"latency callback path, PG: {result['callback_postgres']['forward_ms']}", flush=True)
        result["poll"] = poll_path(Path(tmp) / "poll", count)
        print(f"latency poll path: {result['poll']['ready_to_forward_ms']}", flush=True)
    return result


if __name__ == "__main__":
    save_result("latency", run())
