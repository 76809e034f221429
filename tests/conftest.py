"""Fixtures: a fresh SQLite store per test, a real sandbox server, the app and its client."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app
from app.api import context
from app.config.settings import SANDBOX_FORWARD_SECRET
from tests.support.receiver import Receiver
from tests.support.stack import API_KEY, RELAY_SECRET, STORED_ACTION, SandboxServer

__all__ = ["API_KEY", "RELAY_SECRET", "STORED_ACTION"]  # the tests import them from here


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory) -> SandboxServer:
    """One standalone sandbox process for the session; tests reset it and set its knobs."""
    server = SandboxServer(tmp_path_factory.mktemp("sandbox"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox(sandbox_server) -> SandboxServer:
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.reset()


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
        "ZAPIER_API_BASE": sandbox_server.base,
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",
        # Runs carry callback URLs and wait out the grace, as behind a public https URL
        # (with this one CALLBACKS=auto would mean polling only).
        "CALLBACKS": "on",
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
def make_app(relay_env):
    """Build the app from relay_env with `overrides` (and without the `dropped` names);
    (authenticated test client, services). Every app built is closed at teardown."""
    built = []

    def make(overrides: dict | None = None, dropped: tuple[str, ...] = ()):
        env = {k: v for k, v in {**relay_env, **(overrides or {})}.items() if k not in dropped}
        app = create_app(env)
        built.append(app)
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {API_KEY}"
        with app.app_context():
            return client, context.services()

    yield make
    for app in built:
        app.extensions["relay.services"].close()


@pytest.fixture
def client(make_app):
    return make_app()[0]


@pytest.fixture
def app(client):
    return client.application


@pytest.fixture
def services(app):
    with app.app_context():
        return context.services()


@pytest.fixture
def make_receiver():
    """Start a Receiver (its arguments: secret, status); every one is closed at teardown."""
    started: list[Receiver] = []

    def make(secret: str | None = None, status: int = 204) -> Receiver:
        started.append(Receiver(secret, status).start())
        return started[-1]

    yield make
    for box in started:
        box.close()


@pytest.fixture
def receiver(make_receiver):
    """Verifies forwards signed with the relay's FORWARD_SECRET."""
    return make_receiver(SANDBOX_FORWARD_SECRET)


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
