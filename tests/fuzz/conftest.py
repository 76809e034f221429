"""Fuzz fixtures: the live-mode app's served OpenAPI document, and real ids to aim at."""

from __future__ import annotations

import pytest
import schemathesis

from app.runs.tokens import callback_token
from tests.conftest import RELAY_SECRET, STORED_ACTION
from tests.integration.helpers import callback_url, run_row, trigger


@pytest.fixture
def relay_schema(app, sandbox):
    # Runs stay open upstream: the fuzzer, not the sandbox, decides what the callbacks say.
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


@pytest.fixture
def real_ids(client, services, relay_schema) -> dict:
    """Path parameters that exist: a settled run with a delivery, an action run, a webhook."""
    hook = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"})
    run_id = trigger(client, callback_url="http://127.0.0.1:9/own")
    upstream = run_row(services, run_id)["upstream_run_id"]
    settled = client.post(callback_url(run_id), json={"id": upstream, "errors": []})
    action_run = client.post(
        "/v2/action-runs", json={"data": {"action": "a", "authentication": None, "inputs": {}}}
    )
    assert (hook.status_code, settled.status_code, action_run.status_code) == (201, 200, 200)
    return {
        "stored_action_id": STORED_ACTION,
        "run_id": run_id,
        "token": callback_token(RELAY_SECRET, run_id),
        "webhook_id": hook.get_json()["data"]["id"],
        "action_run_id": action_run.get_json()["data"]["id"],
    }
