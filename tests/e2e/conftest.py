"""A real relay: gunicorn web + worker processes on SQLite or PostgreSQL, and the sandbox."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from app.config.settings import SANDBOX_FORWARD_SECRET
from app.store.engine import build_engine, read
from app.store.tables import runs
from tests.conftest import API_KEY, RELAY_SECRET, STORED_ACTION
from tests.support.processes import Child, free_port, python_cmd, wait_until_up


class Relay:
    def __init__(self, tmp_path, db_url: str, sandbox_base: str, forward_url: str, extra_env):
        self.tmp = tmp_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.db_url = db_url
        self.env = {
            "PORT": str(self.port),
            "BIND_HOST": "127.0.0.1",
            "WEB_CONCURRENCY": "2",
            "ZAPIER_ACCESS_TOKEN": "e2e-token",
            "ZAPIER_API_BASE": sandbox_base,
            "PUBLIC_BASE_URL": self.base,
            "DATABASE_URL": self.db_url,
            "RELAY_INSTANCE_DIR": str(tmp_path),
            "RELAY_API_KEYS": API_KEY,
            "RELAY_SECRET": RELAY_SECRET,
            "FORWARD_URLS": forward_url,
            "FORWARD_SECRET": SANDBOX_FORWARD_SECRET,
            "FORWARD_ALLOW_PRIVATE": "true",
            "FORWARD_RETRY_SCHEDULE": "0,1,1,1",
            "CALLBACK_GRACE_SECONDS": "1",
            "POLL_MAX_INTERVAL_SECONDS": "1",
            "WORKER_LEASE_SECONDS": "3",
            "LOG_LEVEL": "info",
            **extra_env,
        }
        self.web = None
        self.workers: list[Child] = []
        self.engine = None

    def start(self) -> Relay:
        migrate = Child("release", python_cmd("-m", "app.cli", "db", "upgrade"), self.env, self.tmp)
        assert migrate.proc.wait(timeout=60) == 0, migrate.output()  # the Procfile's release line
        migrate.stop()
        cmd = python_cmd("-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "app:create_app()")
        self.web = Child("web", cmd, self.env, self.tmp)
        wait_until_up(f"{self.base}/healthz", proc=self.web.proc)
        self.start_worker()
        self.engine = build_engine(self.db_url)
        return self

    def start_worker(self) -> Child:
        name = f"worker{len(self.workers)}"
        worker = Child(name, python_cmd("-m", "app.cli", "worker"), self.env, self.tmp)
        self.workers.append(worker)
        return worker

    def trigger(self, **data) -> str:
        response = requests.post(
            f"{self.base}/actions/v1/stored-actions/{STORED_ACTION}/run",
            json={"data": {"inputs": {}, **data}},
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=30,
        )
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


@pytest.fixture
def relay_factory(tmp_path, database_url, sandbox, receiver):
    started: list[Relay] = []

    def start(**extra_env) -> Relay:
        relay = Relay(tmp_path, database_url, sandbox.base, receiver.url, extra_env).start()
        started.append(relay)
        return relay

    yield start
    for relay in started:
        relay.stop()
