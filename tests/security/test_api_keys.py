"""API keys in live mode: every operation the document marks as secured answers 401 without a
valid Bearer key; only the upstream-facing and operations endpoints are open; the sandbox's
admin routes do not exist outside sandbox mode."""

from __future__ import annotations

import re
import uuid

import pytest

from app.api.openapi.document import build_spec
from tests.conftest import API_KEY

DOCUMENT = build_spec().to_dict()
OPEN = {"receiveCallback", "healthz", "metrics", "readyz"}
SECURED = sorted(
    (method.upper(), path, op["operationId"])
    for path, ops in DOCUMENT["paths"].items()
    for method, op in ops.items()
    if isinstance(op, dict) and op.get("security", DOCUMENT["security"])
)
BAD_CREDENTIALS = {
    "none": None,
    "empty bearer": "Bearer ",
    "wrong key": "Bearer not-the-key-0123456789",
    "right key, wrong scheme": f"Basic {API_KEY}",
    "right key as a prefix": f"Bearer {API_KEY}x",
    "a prefix of the right key": f"Bearer {API_KEY[:-1]}",
}


def test_only_the_upstream_facing_and_operations_endpoints_are_open():
    every = {
        op["operationId"]
        for ops in DOCUMENT["paths"].values()
        for op in ops.values()
        if isinstance(op, dict)
    }
    assert every - {op_id for _, _, op_id in SECURED} == OPEN


@pytest.mark.parametrize(("method", "path", "op_id"), SECURED, ids=[s[2] for s in SECURED])
def test_secured_operations_need_a_valid_key(app, sandbox, method, path, op_id):
    client = app.test_client()  # no default Authorization here
    url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
    for name, header in BAD_CREDENTIALS.items():
        headers = {"Authorization": header} if header else {}
        response = client.open(url, method=method, json={}, headers=headers)
        assert response.status_code == 401, (name, response.get_json())
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.get_json()["errors"][0]["code"] == "unauthorized"
    good = {"Authorization": f"Bearer {API_KEY}"}
    assert client.open(url, method=method, json={}, headers=good).status_code != 401


def test_sandbox_admin_is_not_served_in_live_mode(client):
    assert client.get("/sandbox/_admin/knobs").status_code == 404
    assert client.post("/sandbox/_admin/reset").status_code == 404
    assert client.get("/readyz").get_json()["mode"] == "live"


def test_wrong_keys_are_throttled_per_address_and_right_keys_never(app, sandbox):
    """Before: 600 wrong keys at ~800/s all got 401, unthrottled."""
    client = app.test_client()
    wrong = {"Authorization": "Bearer not-the-key-0123456789"}
    here, elsewhere = {"REMOTE_ADDR": "198.51.100.7"}, {"REMOTE_ADDR": "198.51.100.8"}
    statuses = [
        client.get("/v1/runs", headers=wrong, environ_base=here).status_code for _ in range(25)
    ]
    assert statuses == [401] * 20 + [429] * 5
    throttled = client.get("/v1/runs", headers=wrong, environ_base=here)
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.get_json()["errors"][0]["code"] == "too_many_requests"
    good = {"Authorization": f"Bearer {API_KEY}"}
    assert client.get("/v1/runs", headers=good, environ_base=here).status_code == 200
    assert client.get("/v1/runs", headers=wrong, environ_base=elsewhere).status_code == 401


def test_metrics_can_be_protected_by_a_token(make_app):
    client, _ = make_app({"METRICS_TOKEN": "metrics-token-0123456789"})
    anonymous = client.get("/metrics", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.get_json()["errors"][0]["code"] == "unauthorized"
    scraper = {"Authorization": "Bearer metrics-token-0123456789"}
    assert client.get("/metrics", headers=scraper).status_code == 200
