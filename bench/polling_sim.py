"""The relay's own poll worker code (poll_one, RateBudget, gateway) run on a virtual clock."""

from __future__ import annotations

import inspect
import random
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from app.bootstrap import build_services
from app.config.settings import load_settings
from app.runs.callbacks import receive_callback
from app.runs.submission import apply_submit_outcome
from app.store import due_work_repo, runs_repo
from app.store.engine import read, write
from app.store.tables import runs
from app.upstream import outcomes as oc
from app.worker.tasks import poll_one
from bench.common import API_KEY, RELAY_SECRET, callback_request
from bench.sim_upstream import SimulatedUpstream, VirtualClock, virtual_time
from tests.support.run_rows import new_run_row
from tests.support.stack import release_step

OWNER = "sim:0"
# When the relay says work is due but claims none, the clock still moves by this much (each
# such step is counted: a worker in that state would spin).
IDLE_STEP = 0.5
HORIZON = 7200.0  # a run still open this long after the last result is ready: given up on
# Whether the due-time query takes `now` (the budget-aware one does); decided once, not per call.
_DUE_TAKES_NOW = "now" in inspect.signature(due_work_repo.next_upstream_due_at).parameters


@dataclass
class SimRun:
    submit_at: float  # absolute (virtual) time the run was accepted upstream
    ready_at: float  # absolute time its result exists upstream
    callback_at: float | None = None  # when its callback reaches the relay; None: lost


def simulate(
    specs: list[SimRun], workdir: Path, get_limit: int = 10**9, window: float = 300.0, **env
) -> dict:
    """Submit, call back and poll every run as one worker would, in time order; per run the
    GETs and the detection delay. `env`: relay settings on top of the defaults."""
    db_file = workdir / f"sim-{uuid.uuid4().hex[:8]}.db"
    env = {
        "ZAPIER_ACCESS_TOKEN": "sim",
        "ZAPIER_API_BASE": "http://127.0.0.1:9/sandbox",
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",
        # Runs that call back and wait out the grace unless `env` says otherwise (under auto,
        # this URL would mean polling only).
        "CALLBACKS": "on",
        "DATABASE_URL": f"sqlite:///{db_file}",
        "RELAY_INSTANCE_DIR": str(workdir),
        "RELAY_API_KEYS": API_KEY,
        "RELAY_SECRET": RELAY_SECRET,
        "ZAPIER_GET_LIMIT": str(get_limit),
        "ZAPIER_RATE_WINDOW_SECONDS": str(window),
        **{key: str(value) for key, value in env.items()},
    }
    _migrated_copy(env, workdir, db_file)
    clock = VirtualClock(min(spec.submit_at for spec in specs))
    # Seeded ids: the claims break ties by id, so the same specs give the same figures.
    rng = random.Random(len(specs))
    ids = [(_uuid(rng), _uuid(rng)) for _ in specs]
    ready = {up: spec.ready_at for (_, up), spec in zip(ids, specs, strict=True)}
    upstream = SimulatedUpstream(clock, ready, get_limit, window)
    # Submissions before callbacks at the same instant; both before the polls of that instant.
    events = sorted(
        [(s.submit_at, 0, i) for i, s in enumerate(specs)]
        + [(s.callback_at, 1, i) for i, s in enumerate(specs) if s.callback_at is not None]
    )
    horizon = max(spec.ready_at for spec in specs) + HORIZON
    started = time.perf_counter()
    polls = idle_steps = taken = 0
    with virtual_time(clock):
        # The relay's own services, one set as the web process's (submissions, callbacks), one
        # as the worker's (polls): each keeps its own caches, as the two processes do. Only
        # the HTTP client underneath the gateway is simulated.
        web, services = (build_services(load_settings(env), pool_size=2) for _ in range(2))
        web.gateway.client = services.gateway.client = upstream
        while True:
            while taken < len(events) and events[taken][0] <= clock.now:
                _, kind, index = events[taken]
                (_submitted_run if kind == 0 else _called_back)(web, *ids[index])
                taken += 1
            # As the worker: ask when work can be done; at that time, claim and do it.
            due = _next_due(services.engine, clock.now)
            if due is not None and due <= clock.now:
                if poll_one(services, OWNER):
                    polls += 1
                    continue
                idle_steps += 1  # due now, yet nothing to claim: step on, and count it
                due = clock.now + IDLE_STEP
            upcoming = events[taken][0] if taken < len(events) else None
            step = min((t for t in (due, upcoming) if t is not None), default=None)
            if step is None or step > horizon:
                break
            clock.now = step
    settled = _settled_at(services.engine)
    web.close()
    services.close()
    per_run = [
        _one_run(spec, settled.get(run_id), upstream.get_times[up], horizon)
        for (run_id, up), spec in zip(ids, specs, strict=True)
    ]
    return {
        "runs": per_run,
        "worker_passes": polls,
        "idle_steps": idle_steps,
        "unsettled": sum(1 for r in per_run if r["unsettled"]),
        "answered_429": upstream.answered_429,
        "max_gets_per_window": max(upstream.per_window.values(), default=0),
        "gets_per_window": sorted(upstream.per_window.items()),
        "cpu_seconds": time.perf_counter() - started,
    }


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _migrated_copy(env: dict, workdir: Path, db_file: Path) -> None:
    """A fresh database at `db_file`: a copy of one the release step migrated in `workdir`
    (the step is a 1.5 s subprocess; the schema is the same for every simulation)."""
    template = workdir / "sim-template.db"
    if not template.exists():
        release_step({**env, "DATABASE_URL": f"sqlite:///{template}"}, workdir, "release-sim")
    shutil.copyfile(template, db_file)


def _one_run(spec: SimRun, settled_at: float | None, gets: list[float], horizon: float) -> dict:
    """GETs, detection delay (to the horizon if never settled), and for the worst-case story:
    the first poll's offset and the gap between the last poll before the result and the next."""
    known = settled_at if settled_at is not None else horizon
    before = [t for t in gets if t < spec.ready_at]
    after = [t for t in gets if t >= spec.ready_at]
    return {
        "submit_at": spec.submit_at,
        "ready_at": spec.ready_at,
        "delay": known - spec.ready_at,
        "gets": len(gets),
        "unsettled": settled_at is None,
        "first_poll": gets[0] - spec.submit_at if gets else None,
        "last_gap": after[0] - (before[-1] if before else spec.submit_at) if after else None,
    }


def _submitted_run(services, run_id: str, upstream_id: str) -> None:
    """A run as trigger_run stores it (tests/support/run_rows: one stored action for all), then
    the real code applies upstream's 202 to it."""
    now = time.time()
    row = new_run_row(run_id, now, next_submit_at=now)
    with write(services.engine) as conn:
        runs_repo.insert_run(conn, row)
    accepted = oc.Accepted(status=202, upstream_id=upstream_id)
    apply_submit_outcome(services, row, accepted, row["created_at"], OWNER, forward=True)


def _called_back(services, run_id: str, upstream_id: str) -> None:
    """Upstream's success callback, through the relay's own receiving code."""
    path, body = callback_request(run_id, upstream_id)
    receive_callback(services, run_id, path.rsplit("/", 1)[1], body.encode(), {})


def _next_due(engine, now: float) -> float | None:
    """The worker's own answer to 'when is upstream work next due' (its idle sleep's end)."""
    with read(engine) as conn:
        if _DUE_TAKES_NOW:
            return due_work_repo.next_upstream_due_at(conn, now=now)
        return due_work_repo.next_upstream_due_at(conn)


def _settled_at(engine) -> dict[str, float]:
    with read(engine) as conn:
        return dict(conn.execute(select(runs.c.id, runs.c.settled_at)).all())
