"""Secrets are never logged (DEBUG included) nor echoed: API keys, RELAY_SECRET, the upstream
token, forward and webhook secrets, callback tokens. A webhook secret shows once, at creation."""

from __future__ import annotations

import base64
import logging

import pytest

from app.runs.tokens import callback_token
from app.worker.tasks import deliver_one
from tests.conftest import API_KEY, RELAY_SECRET
from tests.integration.helpers import callback_url, run_row, trigger
from tests.security.conftest import FORWARD_SECRET, SECURE, UPSTREAM_TOKEN

HOOK_SECRET = "whsec_" + base64.b64encode(b"security-webhook-secret-0001").decode()
ROTATED = "whsec_" + base64.b64encode(b"security-webhook-rotated-0002").decode()
WRONG_KEY = "sk-wrong-but-secret-looking-41d8"


@pytest.fixture
def relay(make_app, make_receiver, sandbox):
    client, services = make_app(SECURE)
    return client, services, make_receiver(FORWARD_SECRET), make_receiver(HOOK_SECRET)


def _deliver_all(services) -> int:
    count = 0
    while deliver_one(services, "security-test"):
        count += 1
    return count


def test_secrets_never_reach_logs_or_answers(relay, sandbox, caplog):
    client, services, own, hooked = relay
    caplog.set_level(logging.DEBUG)
    answers = []

    def call(method, url, **kwargs):
        response = client.open(url, method=method, **kwargs)
        answers.append(response.get_data(as_text=True))
        return response

    created = call("POST", "/v1/webhooks", json={"url": hooked.url, "secret": HOOK_SECRET})
    generated = call("POST", "/v1/webhooks", json={"url": "http://127.0.0.1:9/x", "enabled": False})
    shown_once = [answers.pop(), answers.pop()]  # the creation answers: the one allowed echo
    hook_id, generated_secret = created.get_json()["data"]["id"], generated.get_json()["data"]
    generated_secret = generated_secret["secret"]
    assert HOOK_SECRET in shown_once[1] and generated_secret.startswith("whsec_")
    call("GET", "/v1/webhooks")
    call("GET", f"/v1/webhooks/{hook_id}")
    call("PATCH", f"/v1/webhooks/{hook_id}", json={"secret": "whsec_" + "A" * 200})  # too long
    call("PATCH", f"/v1/webhooks/{hook_id}", json={"secret": ROTATED})
    call("PATCH", f"/v1/webhooks/{hook_id}", json={"secret": HOOK_SECRET, "enabled": True})
    wrong = call("GET", "/v1/runs", headers={"Authorization": f"Bearer {WRONG_KEY}"})
    assert wrong.status_code == 401

    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client, callback_url=own.url)
    other_run = trigger(client)
    token = callback_token(RELAY_SECRET, run_id)
    forged = f"/callbacks/{run_id}/{callback_token(RELAY_SECRET, other_run)}"
    body = {"id": run_row(services, run_id)["upstream_run_id"], "status": "success", "errors": []}
    assert call("POST", forged, json=body).status_code == 403
    assert call("POST", f"/callbacks/{run_id}/garbage", json=body).status_code == 403
    assert call("POST", callback_url(run_id), json=body).status_code == 200
    assert _deliver_all(services) == 3  # two sent, one held for the disabled webhook
    assert call("POST", f"/v1/runs/{run_id}/redeliver").status_code == 202
    assert _deliver_all(services) == 2
    for url in ("/v1/runs", f"/v1/runs/{run_id}", "/metrics", "/readyz", "/openapi.json"):
        call("GET", url)
    assert len(own.received) == len(hooked.received) == 2  # signed with the secrets, verified

    secrets = {
        "API key": API_KEY,
        "wrong API key": WRONG_KEY,
        "RELAY_SECRET": RELAY_SECRET,
        "upstream token": UPSTREAM_TOKEN,
        "FORWARD_SECRET": FORWARD_SECRET,
        "webhook secret": HOOK_SECRET,
        "generated secret": generated_secret,
        "rotated secret": ROTATED,
        "callback token": token,
    }
    # The key material without its prefix, too: a partial leak is a leak.
    secrets.update({f"{name} body": v[6:] for name, v in secrets.items() if v.startswith("whsec_")})
    leaked_to_logs = [name for name, value in secrets.items() if value in caplog.text]
    echoed = [name for name, value in secrets.items() if any(value in a for a in answers)]
    assert (leaked_to_logs, echoed) == ([], [])
    assert any(r.levelno == logging.DEBUG for r in caplog.records)  # DEBUG was really on
