"""(f) Isolation: one worker process delivering next to dead, slow and dripping subscribers,
and fanning out to 50 slow ones. Prints figures and ratios against a clean run made alongside."""

from __future__ import annotations

import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from sqlalchemy import select

from app.store.engine import read
from app.store.tables import runs
from bench.common import database, quick, save_result, summary
from bench.stack import live_stack
from tests.support.bad_peers import BlackHole, Dripper, SlowAnswer
from tests.support.stack import API_KEY

AUTH = {"Authorization": f"Bearer {API_KEY}"}
UNLIMITED = "1000000"
KNOBS = {"run_limit": 100000, "run_seconds": 0.05}
FANOUT_TARGETS = 50
FANOUT_DELAY = 0.2


def subscribe(relay, url: str) -> str:
    made = requests.post(f"{relay.base}/v1/webhooks", json={"url": url}, headers=AUTH, timeout=10)
    made.raise_for_status()
    return made.json()["data"]["id"]


def trigger_many(relay, count: int) -> list[str]:
    url = f"{relay.base}/actions/v1/stored-actions/11111111-2222-4333-8444-555555555555/run"

    def one(_):
        answer = requests.post(url, json={"data": {"inputs": {}}}, headers=AUTH, timeout=30)
        answer.raise_for_status()
        return answer.json()["data"]["id"]

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(one, range(count)))


def settled_at(relay) -> dict[str, float]:
    with read(relay.engine) as conn:
        rows = conn.execute(select(runs.c.id, runs.c.settled_at)).all()
    return {run_id: at for run_id, at in rows if at is not None}


def healthy_latency(workdir: Path, count: int, bad: bool) -> dict:
    """Settled -> the healthy subscriber's arrival, per run; with or without the bad targets."""
    settings = {"ZAPIER_RUN_LIMIT": UNLIMITED, "ZAPIER_GET_LIMIT": UNLIMITED}
    peers = [BlackHole(), SlowAnswer([14.0]), Dripper(1.0)] if bad else []
    try:
        with (
            database("sqlite", workdir) as db_url,
            live_stack(workdir, db_url, KNOBS, **settings) as (
                _sandbox,
                relay,
                receiver,
            ),
        ):
            for peer in peers:
                subscribe(relay, peer.url)
            run_ids = trigger_many(relay, count)
            if not receiver.wait_for_count(count, timeout=120 + count):
                raise RuntimeError(f"only {receiver.count()} of {count} healthy forwards arrived")
            arrivals = {r: a[0]["at"] for r, a in receiver.by_run().items()}
            settled = settled_at(relay)
            latencies = [arrivals[r] - settled[r] for r in run_ids if r in settled]
            overlaps = max([p.max_overlap() for p in peers] or [1])
            duplicates = sum(receiver.duplicates().values())
    finally:
        for peer in peers:
            peer.close()
    return {"latency_s": summary(latencies), "max_overlap": overlaps, "duplicates": duplicates}


class WideServer(ThreadingHTTPServer):
    # A class attribute: listen() reads it while the constructor runs, so a later assignment
    # would leave the kernel's backlog at 5 and stall a burst of connects by a SYN retry.
    request_queue_size = 1024
    daemon_threads = True


class FanoutTarget:
    """One HTTP server answering every path 204 after FANOUT_DELAY; arrival times per path."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[str, str, float]] = []  # (path, webhook-id, at)
        self.lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(FANOUT_DELAY)
                with target.lock:
                    target.arrivals.append((self.path, self.headers["webhook-id"], time.time()))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args):
                """Quiet."""

        self.server = WideServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/t{index}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def fanout(workdir: Path, run_count: int) -> dict:
    """Deliveries queued first (no worker), then one worker started: forwards per second."""
    target = FanoutTarget()
    settings = {"ZAPIER_RUN_LIMIT": UNLIMITED, "ZAPIER_GET_LIMIT": UNLIMITED}
    try:
        with (
            database("sqlite", workdir) as db_url,
            live_stack(
                workdir,
                db_url,
                KNOBS,
                forward=False,
                **settings,
            ) as (
                _sandbox,
                relay,
                _receiver,
            ),
        ):
            relay.workers[0].stop()
            relay.workers.clear()
            for index in range(FANOUT_TARGETS):
                subscribe(relay, target.url(index))
            run_ids = trigger_many(relay, run_count)
            expected = run_count * FANOUT_TARGETS
            deadline = time.monotonic() + 120
            while len(settled_at(relay)) < len(run_ids) and time.monotonic() < deadline:
                time.sleep(0.2)
            started = time.time()
            relay.start_worker()
            deadline = time.monotonic() + 60 + expected / 50
            while len(target.arrivals) < expected and time.monotonic() < deadline:
                time.sleep(0.2)
            times = sorted(at for _p, _id, at in target.arrivals)
            sent = [(path, webhook_id) for path, webhook_id, _at in target.arrivals]
    finally:
        target.close()
    span = (times[-1] - times[0]) if len(times) > 1 else None
    in_flight = int(relay.env.get("FORWARD_MAX_IN_FLIGHT", "256"))
    return {
        "expected": expected,
        "arrived": len(times),
        "first_after_start_s": times[0] - started if times else None,
        "forwards_per_second": (len(times) - 1) / span if span else None,
        "cap_limit_per_second": in_flight / FANOUT_DELAY,
        "duplicates": len(sent) - len(set(sent)),
    }


def main() -> None:
    count = 40 if quick() else 200
    fan_runs = 8 if quick() else 40
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "clean").mkdir()
        (base / "bad").mkdir()
        (base / "fan").mkdir()
        clean = healthy_latency(base / "clean", count, bad=False)
        print("clean", clean, flush=True)
        with_bad = healthy_latency(base / "bad", count, bad=True)
        print("with bad targets", with_bad, flush=True)
        fan = fanout(base / "fan", fan_runs)
        print("fan-out", fan, flush=True)
    save_result("isolation", {"runs": count, "clean": clean, "bad": with_bad, "fanout": fan})


if __name__ == "__main__":
    main()
