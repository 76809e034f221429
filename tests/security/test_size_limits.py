"""Request size limits through real gunicorn: a body over MAX_BODY_BYTES is a 413 in the error
shape on every endpoint that takes one, also when it comes chunked with no Content-Length.
(Exactly-at and one-over with a Content-Length: tests/fuzz/test_body_edges.py.)"""

from __future__ import annotations

import pytest
import requests

from app.runs.tokens import callback_path
from tests.conftest import API_KEY, RELAY_SECRET
from tests.e2e.conftest import e2e_relay

pytestmark = pytest.mark.e2e
LIMIT = 2048
AUTH = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}


@pytest.fixture
def relay(tmp_path, database_url, sandbox, receiver):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    env = {"MAX_BODY_BYTES": str(LIMIT)}
    started = e2e_relay(tmp_path, database_url, sandbox, receiver, env)
    yield started.start()
    started.stop()


def _chunks(total: int):
    yield b'{"data": {"inputs": {"x": "'
    for _ in range(total // 512):
        yield b"y" * 512  # the server cannot know the size before it has read too much
    yield b'"}}}'


def test_oversized_bodies_are_413_with_or_without_a_content_length(relay):
    run_id = relay.trigger()
    hook = requests.post(
        f"{relay.base}/v1/webhooks", json={"url": "http://127.0.0.1:9/h"}, headers=AUTH, timeout=10
    ).json()["data"]["id"]
    targets = [
        ("POST", "/actions/v1/stored-actions/11111111-2222-4333-8444-555555555555/run"),
        ("POST", "/v2/action-runs"),
        ("POST", "/v1/webhooks"),
        ("PATCH", f"/v1/webhooks/{hook}"),
        ("POST", callback_path(RELAY_SECRET, run_id)),
    ]
    for method, path in targets:
        for body in (b"{" + b" " * LIMIT + b"}", _chunks(8 * LIMIT)):
            response = requests.request(
                method, relay.base + path, data=body, headers=AUTH, timeout=30
            )
            assert response.status_code == 413, (method, path, response.text[:200])
            entry = response.json()["errors"][0]
            assert (entry["status"], entry["code"]) == (413, "request_entity_too_large")
    runs = relay.runs()
    assert [r["id"] for r in runs] == [run_id] and runs[0]["state"] == "submitted"
    # A chunked body of exactly the limit is whole, not "too large".
    head, tail = b'{"data": {"inputs": {"x": "', b'"}}}'
    exact = head + b"y" * (LIMIT - len(head) - len(tail)) + tail
    path = targets[0][1]
    response = requests.post(relay.base + path, data=iter([exact]), headers=AUTH, timeout=30)
    assert response.status_code == 202, response.text
