"""The one launcher of real processes for tests and bench: the sandbox, the relay as deployed."""

from __future__ import annotations

import os
from pathlib import Path

import requests
from sqlalchemy import select

from app.config.settings import SANDBOX_FORWARD_SECRET
from app.store.engine import build_engine, read
from app.store.tables import runs
from tests.support.processes import Child, free_port, python_cmd, wait_until_up

# What every launched (and in-process) relay is configured with, and what clients send it.
API_KEY = "test-key-0123456789"
RELAY_SECRET = "test-relay-secret-0123456789"
STORED_ACTION = "11111111-2222-4333-8444-555555555555"
GUNICORN = ("-m", "gunicorn", "-c", "deploy/gunicorn.conf.py")


class SandboxServer:
    """`relay sandbox` on a free loopback port and its own SQLite file unless told a database."""

    def __init__(self, workdir: Path, database_url: str = "", name: str = "sandbox", **knobs):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/sandbox"
        self.db_url = database_url or f"sqlite:///{workdir / f'{name}.db'}"
        # Knobs come from the caller, never from whatever SANDBOX_* the caller's shell has.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
        env.update({f"SANDBOX_{knob.upper()}": str(value) for knob, value in knobs.items()})
        env["RELAY_INSTANCE_DIR"] = str(workdir)
        args = ["-m", "app.cli", "sandbox", "--port", str(self.port), "--database-url", self.db_url]
        self.child = Child(name, python_cmd(*args), env, workdir, inherit=False)
        try:
            wait_until_up(f"{self.base}/_admin/knobs", proc=self.child.proc)
        except BaseException:
            self.child.stop()
            raise

    def knobs(self, **values) -> dict:
        answer = requests.patch(f"{self.base}/_admin/knobs", json=values, timeout=10)
        answer.raise_for_status()
        return answer.json()

    def stats(self) -> dict:
        return requests.get(f"{self.base}/_admin/stats", timeout=30).json()

    def reset(self) -> None:
        requests.post(f"{self.base}/_admin/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        self.child.stop()


def release_step(env: dict, workdir: Path, name: str = "release") -> None:
    """`relay db upgrade`, the Procfile's release line, as a deployment runs it."""
    step = Child(name, python_cmd("-m", "app.cli", "db", "upgrade"), env, workdir)
    code = step.proc.wait(timeout=60)
    step.stop()
    if code != 0:
        raise RuntimeError(f"release step exited with {code}: {step.output()}")


class Relay:
    """The release step, gunicorn with deploy/gunicorn.conf.py, then `relay worker`s."""

    def __init__(self, workdir: Path, settings: dict, port: int = 0):
        self.workdir = workdir
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {"PORT": self.port, "BIND_HOST": "127.0.0.1", "RELAY_INSTANCE_DIR": workdir}
        self.env = {key: str(value) for key, value in {**env, **settings}.items()}
        self.web: Child | None = None
        self.workers: list[Child] = []
        self.engine = None

    @classmethod
    def live(cls, workdir: Path, db_url: str, upstream: str, forward_url: str = "", **settings):
        """Live mode against `upstream`, forwarding to `forward_url`; `settings` on top."""
        port = free_port()
        live = {
            "ZAPIER_ACCESS_TOKEN": "stack-token",
            "ZAPIER_API_BASE": upstream,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            # The sandbox calls back on loopback, which CALLBACKS=auto would not use in live mode.
            "CALLBACKS": "on",
            "DATABASE_URL": db_url,
            "RELAY_API_KEYS": API_KEY,
            "RELAY_SECRET": RELAY_SECRET,
            "FORWARD_SECRET": SANDBOX_FORWARD_SECRET,
            "FORWARD_ALLOW_PRIVATE": "true",
            **({"FORWARD_URLS": forward_url} if forward_url else {}),
        }
        return cls(workdir, {**live, **settings}, port)

    def start(self, app_spec: str = "app:create_app()", workers: int = 1) -> Relay:
        release_step(self.env, self.workdir, f"release-{self.port}")
        web = python_cmd(*GUNICORN, app_spec)
        self.web = Child(f"web-{self.port}", web, self.env, self.workdir)
        wait_until_up(f"{self.base}/healthz", proc=self.web.proc)
        for _ in range(workers):
            self.start_worker()
        if "DATABASE_URL" in self.env:
            self.engine = build_engine(self.env["DATABASE_URL"])
        return self

    def start_worker(self) -> Child:
        name = f"worker{len(self.workers)}-{self.port}"
        worker = Child(name, python_cmd("-m", "app.cli", "worker"), self.env, self.workdir)
        self.workers.append(worker)
        return worker

    def post_run(self, session=None, **data) -> requests.Response:
        """POST a stored-action run, `data` on top of empty inputs."""
        return (session or requests).post(
            f"{self.base}/actions/v1/stored-actions/{STORED_ACTION}/run",
            json={"data": {"inputs": {}, **data}},
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=60,
        )

    def trigger(self, **data) -> str:
        """The accepted run's id."""
        response = self.post_run(**data)
        assert response.status_code == 202, response.text
        return response.json()["data"]["id"]

    def runs(self) -> list[dict]:
        with read(self.engine) as conn:
            return [dict(r) for r in conn.execute(select(runs)).mappings()]

    def stop(self) -> None:
        for child in [*self.workers, self.web]:
            if child is not None:
                child.stop()
        if self.engine is not None:
            self.engine.dispose()
