"""The sandbox on PostgreSQL: the same runs, keys, windows and callbacks as on SQLite."""

from __future__ import annotations

import uuid

import pytest

from app.sandbox import create_sandbox_app
from tests.sandbox.conftest import BEARER, InProcessApi

ACTION = str(uuid.uuid4())


@pytest.fixture
def postgres_sandbox(postgres_url):
    """A sandbox in a private schema of the real PostgreSQL."""
    app = create_sandbox_app({"SANDBOX_DATABASE_URL": postgres_url, "SANDBOX_RUN_SECONDS": "0"})
    try:
        yield InProcessApi(app)
    finally:
        app.extensions["sandbox"].close()


def test_runs_idempotency_limits_and_callbacks_on_postgres(postgres_sandbox, receiver):
    api = postgres_sandbox
    api.knobs(run_limit=2, window_seconds=10**7)
    body = {"data": {"callback_url": receiver.url(), "idempotency_id": str(uuid.uuid4())}}
    path = f"/actions/v1/stored-actions/{ACTION}/run"
    first = api.request("POST", path, json=body, headers=BEARER)
    again = api.request("POST", path, json=body, headers=BEARER)
    assert first.json["data"]["id"] == again.json["data"]["id"]
    assert api.request("POST", path, json=body, headers=BEARER).status == 429

    run_id = first.json["data"]["id"]
    [callback] = receiver.wait_for_count(1)
    result = api.request(
        "GET", f"/actions/v1/stored-actions/{ACTION}/runs/{run_id}", headers=BEARER
    )
    assert callback.body == result.json and result.json["status"] == "success"
    assert api.stats()["rate"]["run"]["max_per_window"] == 2
