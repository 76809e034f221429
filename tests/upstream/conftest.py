"""Fixtures: real SQLite and PostgreSQL stores, and a client of a real local HTTP server."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.store.engine import build_engine
from app.store.tables import create_schema
from app.upstream.client import UpstreamClient

from .contract_examples import TOKEN

POSTGRES_ENV = "RELAY_TEST_POSTGRES_URL"


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'relay.db'}"


@pytest.fixture
def postgres_url():
    """A private schema (via search_path) on the test PostgreSQL, dropped afterwards."""
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_ENV} not set")
    schema = f"relay_upstream_{uuid.uuid4().hex[:12]}"
    # Set but unreachable must fail, not skip: connection errors propagate from here.
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


def _engine_for(url):
    engine = build_engine(url, pool_size=4)
    create_schema(engine)
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
    upstream = UpstreamClient(httpserver.url_for("/"), TOKEN, connect_timeout=2.0, read_timeout=5.0)
    yield upstream
    upstream.close()
