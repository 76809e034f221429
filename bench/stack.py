"""Real processes for a benchmark: the standalone sandbox, gunicorn web, worker."""

from __future__ import annotations

import time
from pathlib import Path

import requests
from sqlalchemy import select

from app.config.settings import SANDBOX_FORWARD_SECRET
from app.sandbox.tables import runs as sandbox_runs
from app.store.engine import build_engine, read
from bench.common import API_KEY, RELAY_SECRET, STORED_ACTION, child_pids, upgrade_schema
from tests.support.processes import Child, free_port, python_cmd, wait_until_up

GUNICORN = ("-m", "gunicorn", "-c", "deploy/gunicorn.conf.py")


class Sandbox:
    """`relay sandbox` on its own port and SQLite file; knobs from SANDBOX_* at start."""

    def __init__(self, workdir: Path, **knobs):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/sandbox"
        self.db_url = f"sqlite:///{workdir / 'sandbox.db'}"
        env = {f"SANDBOX_{name.upper()}": str(value) for name, value in knobs.items()}
        env["RELAY_INSTANCE_DIR"] = str(workdir)
        args = ["-m", "app.cli", "sandbox", "--port", str(self.port)]
        args += ["--database-url", self.db_url]
        self.child = Child("sandbox", python_cmd(*args), env, workdir)
        wait_until_up(f"{self.base}/_admin/knobs", proc=self.child.proc)

    def knobs(self, **values) -> dict:
        answer = requests.patch(f"{self.base}/_admin/knobs", json=values, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def stats(self) -> dict:
        return requests.get(f"{self.base}/_admin/stats", timeout=30).json()

    def run_times(self) -> dict[str, tuple[float, float]]:
        """Upstream run id -> (created_at, done_at) as the simulator planned it."""
        engine = build_engine(self.db_url, pool_size=1)
        try:
            with read(engine) as conn:
                query = select(sandbox_runs.c.id, sandbox_runs.c.created_at, sandbox_runs.c.done_at)
                return {row.id: (row.created_at, row.done_at) for row in conn.execute(query)}
        finally:
            engine.dispose()

    def stop(self) -> None:
        self.child.stop()


class Relay:
    """gunicorn with deploy/gunicorn.conf.py serving `app_spec`, plus optional `relay worker`s."""

    def __init__(self, workdir: Path, db_url: str, upstream: str, forward_url: str = "", **env):
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PORT": str(self.port),
            "BIND_HOST": "127.0.0.1",
            "ZAPIER_ACCESS_TOKEN": "bench-token",
            "ZAPIER_API_BASE": upstream,
            "PUBLIC_BASE_URL": self.base,
            "DATABASE_URL": db_url,
            "RELAY_INSTANCE_DIR": str(workdir),
            "RELAY_API_KEYS": API_KEY,
            "RELAY_SECRET": RELAY_SECRET,
            "FORWARD_SECRET": SANDBOX_FORWARD_SECRET,
            "FORWARD_ALLOW_PRIVATE": "true",
            **({"FORWARD_URLS": forward_url} if forward_url else {}),
            **{key: str(value) for key, value in env.items()},
        }
        self.web: Child | None = None
        self.workers: list[Child] = []

    def start(self, app_spec: str = "app:create_app()", workers: int = 1) -> Relay:
        upgrade_schema(self.env)
        name = f"web-{self.port}"
        self.web = Child(name, python_cmd(*GUNICORN, app_spec), self.env, self.workdir)
        wait_until_up(f"{self.base}/healthz", proc=self.web.proc)
        for index in range(workers):
            worker = python_cmd("-m", "app.cli", "worker")
            self.workers.append(Child(f"worker{index}-{self.port}", worker, self.env, self.workdir))
        return self

    def web_worker_pids(self) -> list[int]:
        """The gunicorn worker processes (children of the master) that serve requests."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pids = child_pids(self.web.proc.pid)
            if pids:
                return pids
            time.sleep(0.1)
        raise RuntimeError("gunicorn has no worker processes")

    def trigger(self, session: requests.Session, **data) -> requests.Response:
        return session.post(
            f"{self.base}/actions/v1/stored-actions/{STORED_ACTION}/run",
            json={"data": {"inputs": {"message": "bench"}, **data}},
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=60,
        )

    def stop(self) -> None:
        for child in [*self.workers, self.web]:
            if child is not None:
                child.stop()
