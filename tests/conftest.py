"""Fixtures: a fresh SQLite store per test, a real sandbox server, the app and its client."""

from __future__ import annotations

import os
import uuid

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app
from app.config.settings import SANDBOX_FORWARD_SECRET
from tests.support.processes import Child, free_port, python_cmd, wait_until_up
from tests.support.receiver import Receiver

API_KEY = "test-key-0123456789"
RELAY_SECRET = "test-relay-secret-0123456789"
STORED_ACTION = "11111111-2222-4333-8444-555555555555"


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory):
    """One standalone sandbox process for the session; tests reset it and set its knobs."""
    workdir = tmp_path_factory.mktemp("sandbox")
    port = free_port()
    child = Child(
        "sandbox",
        python_cmd(
            "-m",
            "app.cli",
            "sandbox",
            "--port",
            str(port),
            "--database-url",
            f"sqlite:///{workdir / 'sandbox.db'}",
        ),
        {"RELAY_INSTANCE_DIR": str(workdir)},
        workdir,
    )
    base = f"http://127.0.0.1:{port}/sandbox"
    try:
        wait_until_up(f"{base}/_admin/knobs", proc=child.proc)
        yield base
    finally:
        child.stop()


class Sandbox:
    def __init__(self, base: str):
        self.base = base

    def knobs(self, **values) -> dict:
        response = requests.patch(f"{self.base}/_admin/knobs", json=values, timeout=5)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict:
        return requests.get(f"{self.base}/_admin/stats", timeout=5).json()

    def reset(self) -> None:
        requests.post(f"{self.base}/_admin/reset", timeout=5).raise_for_status()


@pytest.fixture
def sandbox(sandbox_server):
    box = Sandbox(sandbox_server)
    box.reset()
    yield box
    box.reset()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    """The relay's store: real SQLite, and real PostgreSQL when RELAY_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'relay.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def relay_env(tmp_path, sandbox_server, database_url) -> dict:
    """Live-mode settings pointing at the sandbox, so keys and secrets are exercised for real."""
    from app.store.schema_version import upgrade

    upgrade(database_url)  # what a deployment's release step (`relay db upgrade`) does
    return {
        "ZAPIER_ACCESS_TOKEN": "test-token",
        "ZAPIER_API_BASE": sandbox_server,
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",
        "DATABASE_URL": database_url,
        "RELAY_INSTANCE_DIR": str(tmp_path),
        "RELAY_API_KEYS": API_KEY,
        "RELAY_SECRET": RELAY_SECRET,
        "FORWARD_SECRET": SANDBOX_FORWARD_SECRET,
        "FORWARD_ALLOW_PRIVATE": "true",
        "FORWARD_RETRY_SCHEDULE": "0,0,0",
        "CALLBACK_GRACE_SECONDS": "0",
        "POLL_MAX_INTERVAL_SECONDS": "0.2",
        "WORKER_LEASE_SECONDS": "5",
    }


@pytest.fixture
def app(relay_env):
    app = create_app(relay_env)
    yield app
    app.extensions["relay.services"].close()


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {API_KEY}"
    return client


@pytest.fixture
def services(app):
    with app.app_context():
        from app.api.context import services as get_services

        return get_services()


@pytest.fixture
def receiver():
    box = Receiver(SANDBOX_FORWARD_SECRET).start()
    yield box
    box.close()


@pytest.fixture
def postgres_url():
    """A private schema (via search_path) on the real PostgreSQL, dropped afterwards.

    Skipped without RELAY_TEST_POSTGRES_URL; set but unreachable fails, never skips.
    """
    base_url = os.environ.get("RELAY_TEST_POSTGRES_URL")
    if not base_url:
        pytest.skip("RELAY_TEST_POSTGRES_URL not set")
    from app.store.engine import build_engine

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = build_engine(base_url, pool_size=1)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
