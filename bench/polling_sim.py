"""The relay's own poll worker code (poll_one, RateBudget, gateway) run on a virtual clock."""

from __future__ import annotations

import contextlib
import json
import math
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, select

from app.bootstrap import build_services
from app.config.settings import load_settings
from app.runs.submission import apply_submit_outcome
from app.store import runs_repo
from app.store.engine import read, write
from app.store.tables import runs
from app.upstream import outcomes as oc
from app.worker.tasks import poll_one
from bench.common import API_KEY, RELAY_SECRET
from tests.support.run_rows import new_run_row
from tests.support.stack import release_step

OPEN = ("submitted", "waiting")


class VirtualClock:
    def __init__(self, start: float):
        self.now = start

    def __call__(self) -> float:
        return self.now


@contextlib.contextmanager
def virtual_time(clock: VirtualClock):
    """Every time.time() in this process reads the virtual clock (the app calls time.time())."""
    real = time.time
    time.time = clock
    try:
        yield
    finally:
        time.time = real


class SimulatedUpstream:
    """GET answers: 202 until a run is done, then 200; the sandbox's fixed-window rate limit."""

    def __init__(self, clock: VirtualClock, ready_at: dict[str, float], limit: int, window: float):
        self.clock, self.ready_at = clock, ready_at
        self.limit, self.window = limit, window
        self.window_start, self.used = None, 0
        self.gets: Counter[str] = Counter()
        self.answered_429 = 0
        self.per_window: Counter[float] = Counter()

    def get_stored_action_run(self, _stored_action_id: str, upstream_run_id: str, *, token=""):
        now = self.clock()
        start = math.floor(now / self.window) * self.window
        if start != self.window_start:
            self.window_start, self.used = start, 0
        throttled = self.used >= self.limit
        self.used += 0 if throttled else 1
        rate = oc.RateInfo(self.limit, self.limit - self.used, math.ceil(start + self.window))
        if throttled:
            self.answered_429 += 1
            return oc.Throttled(status=429, rate=rate, retry_after=rate.reset_at - now)
        self.gets[upstream_run_id] += 1
        self.per_window[start] += 1
        if now < self.ready_at[upstream_run_id]:
            return oc.Processing(status=202, rate=rate)
        body = {"type": "run", "id": upstream_run_id, "status": "success", "errors": []}
        return oc.Result(status=200, rate=rate, body=body, raw=json.dumps(body))

    def close(self) -> None:
        """As the real client's, for Services.close(); there is no connection to let go."""


@dataclass
class SimRun:
    submit_at: float  # absolute (virtual) time the run was accepted upstream
    ready_at: float  # absolute time its result exists upstream


def simulate(
    specs: list[SimRun],
    workdir: Path,
    grace: float,
    cap: float = 300.0,
    get_limit: int = 10**9,
    window: float = 300.0,
    lost_history: bool = False,
) -> dict:
    """Poll every run to its result as one worker would; per-run GETs and detection delays.

    `lost_history`: the store already holds runs settled by polls, as after callbacks have gone
    missing for a while, so the relay's adaptive grace has shrunk (steady state under loss).
    """
    db_url = f"sqlite:///{workdir / f'sim-{uuid.uuid4().hex[:8]}.db'}"
    env = {
        "ZAPIER_ACCESS_TOKEN": "sim",
        "ZAPIER_API_BASE": "http://127.0.0.1:9/sandbox",
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",
        "DATABASE_URL": db_url,
        "RELAY_INSTANCE_DIR": str(workdir),
        "RELAY_API_KEYS": API_KEY,
        "RELAY_SECRET": RELAY_SECRET,
        "CALLBACK_GRACE_SECONDS": str(grace),
        "POLL_MAX_INTERVAL_SECONDS": str(cap),
        "ZAPIER_GET_LIMIT": str(get_limit),
        "ZAPIER_RUN_LIMIT": str(10**9),
        "ZAPIER_RATE_WINDOW_SECONDS": str(window),
    }
    release_step(env, workdir, f"release-{uuid.uuid4().hex[:8]}")
    clock = VirtualClock(min(spec.submit_at for spec in specs))
    ids = [(str(uuid.uuid4()), str(uuid.uuid4())) for _ in specs]
    ready = {up: spec.ready_at for (_, up), spec in zip(ids, specs, strict=True)}
    upstream = SimulatedUpstream(clock, ready, get_limit, window)
    started = time.perf_counter()
    with virtual_time(clock):
        # The relay's own services; only the HTTP client underneath the gateway is simulated.
        services = build_services(load_settings(env), pool_size=2)
        services.gateway.client = upstream
        if lost_history:
            _polled_history(services, clock.now - 3600.0)
        order = sorted(zip(ids, specs, strict=True), key=lambda pair: pair[1].submit_at)
        for (run_id, upstream_id), spec in order:
            clock.now = spec.submit_at
            _submitted_run(services, run_id, upstream_id)
        polls = 0
        while True:
            while poll_one(services, "sim:0"):
                polls += 1
            due = _next_due(services.engine)
            if due is None:
                break
            clock.now = max(clock.now, due)
    settled = _settled_at(services.engine)
    services.close()
    per_run = [
        {
            "ready_at": spec.ready_at,
            "delay": settled[run_id] - spec.ready_at,
            "gets": upstream.gets[up],
        }
        for (run_id, up), spec in zip(ids, specs, strict=True)
    ]
    return {
        "runs": per_run,
        "worker_passes": polls,
        "answered_429": upstream.answered_429,
        "max_gets_per_window": max(upstream.per_window.values(), default=0),
        "gets_per_window": sorted(upstream.per_window.items()),
        "cpu_seconds": time.perf_counter() - started,
    }


def _polled_history(services, at: float) -> None:
    """Fifty finished runs that were settled by a poll: every callback went missing."""
    rows = [
        new_run_row(now=at, state="succeeded", source="poll", settled_at=at, next_submit_at=None)
        for _ in range(50)
    ]
    with write(services.engine) as conn:
        conn.execute(insert(runs), rows)


def _submitted_run(services, run_id: str, upstream_id: str) -> None:
    """A run as trigger_run stores it, then the real code applies upstream's 202 to it."""
    now = time.time()
    row = new_run_row(run_id, now, next_submit_at=now)
    with write(services.engine) as conn:
        runs_repo.insert_run(conn, row)
    accepted = oc.Accepted(status=202, upstream_id=upstream_id)
    apply_submit_outcome(services, row, accepted, row["created_at"], "sim:0", forward=True)


def _next_due(engine) -> float | None:
    query = select(func.min(runs.c.next_poll_at)).where(runs.c.state.in_(OPEN))
    with read(engine) as conn:
        return conn.execute(query).scalar()


def _settled_at(engine) -> dict[str, float]:
    with read(engine) as conn:
        return dict(conn.execute(select(runs.c.id, runs.c.settled_at)).all())
