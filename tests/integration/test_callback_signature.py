"""With ZAPIER_CALLBACK_JWKS_URL set, a callback needs a valid Zapier-Callback-Signature JWT."""

import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.integration.helpers import callback_url, run_row, snapshot, trigger


@pytest.fixture
def signed_app(make_app, sandbox):
    return make_app({"ZAPIER_CALLBACK_JWKS_URL": f"{sandbox.base}/.well-known/jwks.json"})


def _forged(sandbox, **claims):
    kid = requests.get(f"{sandbox.base}/.well-known/jwks.json", timeout=5).json()["keys"][0]["kid"]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    payload = {"iat": now, "exp": now + 300, **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def test_missing_or_forged_signature_is_401_and_changes_nothing(signed_app, sandbox):
    client, services = signed_app
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client)
    body = {"id": run_row(services, run_id)["upstream_run_id"], "errors": []}
    before = snapshot(services)
    missing = client.post(callback_url(run_id), json=body)
    forged = client.post(
        callback_url(run_id), json=body, headers={"Zapier-Callback-Signature": _forged(sandbox)}
    )
    garbage = client.post(
        callback_url(run_id), json=body, headers={"Zapier-Callback-Signature": "not.a.jwt"}
    )
    assert [r.status_code for r in (missing, forged, garbage)] == [401, 401, 401]
    assert forged.get_json()["errors"][0]["code"] == "invalid_signature"
    assert snapshot(services) == before
