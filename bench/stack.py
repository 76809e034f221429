"""The bench's processes: the shared launcher (tests/support/stack.py), plus what only it reads."""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from sqlalchemy import select

from app.config.settings import SANDBOX_FORWARD_SECRET
from app.sandbox.tables import runs as sandbox_runs
from app.store.engine import build_engine, read
from bench.common import child_pids, database
from tests.support.receiver import Receiver
from tests.support.stack import Relay
from tests.support.stack import SandboxServer as Sandbox

__all__ = [
    "Receiver",
    "Relay",
    "Sandbox",
    "live_stack",
    "run_times",
    "scratch_stack",
    "subscriber",
    "trigger",
    "web_worker_pids",
]

INPUTS = {"message": "bench"}


def subscriber() -> Receiver:
    """A started receiver that verifies forwards signed with the relay's FORWARD_SECRET."""
    return Receiver(SANDBOX_FORWARD_SECRET).start()


@contextlib.contextmanager
def live_stack(
    workdir: Path, db_url: str, knobs: dict, forward: bool = True, **settings
) -> Iterator[tuple[Sandbox, Relay, Receiver | None]]:
    """A sandbox with `knobs`, a relay (one worker, `settings`) on it and, if `forward`, the
    subscriber it forwards to; all stopped on the way out (the receiver keeps its records)."""
    with contextlib.ExitStack() as stack:
        receiver = subscriber() if forward else None
        if receiver is not None:
            stack.callback(receiver.close)
        sandbox = Sandbox(workdir, **knobs)
        stack.callback(sandbox.stop)
        forward_url = receiver.url if receiver is not None else ""
        relay = Relay.live(workdir, db_url, sandbox.base, forward_url, **settings)
        stack.callback(relay.stop)
        relay.start(workers=1)
        yield sandbox, relay, receiver


@contextlib.contextmanager
def scratch_stack(prefix: str, knobs: dict, **settings):
    """live_stack in a temporary directory on a fresh SQLite database; yields (database URL,
    sandbox, relay, receiver)."""
    with (
        tempfile.TemporaryDirectory(prefix=prefix) as tmp,
        database("sqlite", Path(tmp)) as db_url,
        live_stack(Path(tmp), db_url, knobs, **settings) as (sandbox, relay, receiver),
    ):
        yield db_url, sandbox, relay, receiver


def trigger(relay: Relay, session: requests.Session, **data) -> requests.Response:
    """POST one stored-action run with the bench's inputs; the answer, whatever it is."""
    return relay.post_run(session, inputs=INPUTS, **data)


def web_worker_pids(relay: Relay) -> list[int]:
    """The gunicorn worker processes (children of the master) that serve requests."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pids = child_pids(relay.web.proc.pid)
        if pids:
            return pids
        time.sleep(0.1)
    raise RuntimeError("gunicorn has no worker processes")


def run_times(sandbox: Sandbox) -> dict[str, tuple[float, float]]:
    """Upstream run id -> (created_at, done_at) as the simulator planned it."""
    engine = build_engine(sandbox.db_url, pool_size=1)
    try:
        with read(engine) as conn:
            query = select(sandbox_runs.c.id, sandbox_runs.c.created_at, sandbox_runs.c.done_at)
            return {row.id: (row.created_at, row.done_at) for row in conn.execute(query)}
    finally:
        engine.dispose()
