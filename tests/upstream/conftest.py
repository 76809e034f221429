"""Fixtures: real SQLite and PostgreSQL stores, and a client of a real local HTTP server."""

from __future__ import annotations

import pytest

from app.store.engine import build_engine
from app.store.schema_version import upgrade
from app.upstream.client import UpstreamClient

POSTGRES_ENV = "RELAY_TEST_POSTGRES_URL"


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'relay.db'}"


def _engine_for(url):
    engine = build_engine(url, pool_size=4)
    upgrade(engine)
    return engine


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request):
    """The URL of a fresh, empty store on each database."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def store_engine(store_url):
    engine = _engine_for(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def client(httpserver):
    upstream = UpstreamClient(httpserver.url_for("/"), connect_timeout=2.0, total_timeout=5.0)
    yield upstream
    upstream.close()
