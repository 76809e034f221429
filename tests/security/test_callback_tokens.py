"""Callback URL tokens, as upstream receives them: one per run, 256 bits, bound to RELAY_SECRET
(another secret, or none, derives nothing that the relay accepts)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from app.config.settings import SANDBOX_RELAY_SECRET
from tests.integration.helpers import run_row, trigger
from tests.support.processes import wait_for

RUNS = 20


def _guesses(run_id: str) -> set[str]:
    """What an attacker could compute from the run id alone, or with the public dev secret."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    message = f"callback:{run_id}".encode()
    return {
        b64(hashlib.sha256(run_id.encode()).digest()),
        b64(hashlib.sha256(message).digest()),
        b64(hmac.new(b"", message, hashlib.sha256).digest()),
        b64(hmac.new(SANDBOX_RELAY_SECRET.encode(), message, hashlib.sha256).digest()),
        run_id,
    }


def test_tokens_seen_by_upstream_are_per_run_long_and_secret_bound(make_app, sandbox, httpserver):
    httpserver.expect_request(re.compile(r"^/callbacks/"), method="POST").respond_with_data("")
    public = {"PUBLIC_BASE_URL": httpserver.url_for("").rstrip("/")}
    client, services = make_app(public)
    sandbox.knobs(run_seconds=0.05)
    run_ids = [trigger(client) for _ in range(RUNS)]
    wait_for(lambda: len(httpserver.log) >= RUNS)
    tokens = {}
    for request, _response in httpserver.log:
        _, _, run_id, token = request.path.split("/")
        tokens[run_id] = token
    assert set(tokens) == set(run_ids)
    assert len(set(tokens.values())) == RUNS  # one token per run
    for run_id, token in tokens.items():
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
        assert token not in _guesses(run_id)

    # The same store behind another RELAY_SECRET: upstream's genuine token is refused there.
    stranger, _ = make_app({**public, "RELAY_SECRET": "x" * 32})
    run_id = run_ids[0]
    body = {"id": run_row(services, run_id)["upstream_run_id"], "errors": []}
    assert stranger.post(f"/callbacks/{run_id}/{tokens[run_id]}", json=body).status_code == 403
    assert client.post(f"/callbacks/{run_id}/{tokens[run_id]}", json=body).status_code == 200
