"""Issue 12, "/openapi.json says exactly what the API does": each schemathesis finding, pinned.

Each test takes a value the outside run found answered against the document, and checks that
the document and the answer now agree (tests/fuzz/test_live_conformance.py keeps it so).
"""

from __future__ import annotations

import uuid

import pytest

from app.api.openapi.document import build_spec
from tests.integration.helpers import RUN_URL

DOCUMENT = build_spec().to_dict()
V2 = "/v2/action-runs"


def _parameters(path: str) -> dict:
    return {p["name"]: p for p in DOCUMENT["paths"][path]["get"]["parameters"]}


@pytest.mark.parametrize("path", ["/v1/webhooks", "/v1/zap-watches"])
def test_booleans_are_strict(client, path):
    """Before: `"enabled": 0` (and 1, "true") was taken."""
    body = {"url": "http://127.0.0.1:9/h"} if path == "/v1/webhooks" else {}
    for wrong in (0, 1, "true", None):
        answer = client.post(path, json={**body, "enabled": wrong})
        assert answer.status_code == 400, wrong
        assert answer.get_json()["errors"][0]["source"] == {"pointer": "/enabled"}
    created = client.post(path, json={**body, "enabled": False})
    assert created.status_code == 201 and created.get_json()["data"]["enabled"] is False
    item = f"{path}/{created.get_json()['data']['id']}"
    assert client.patch(item, json={"enabled": 1}).status_code == 400
    assert client.patch(item, json={"enabled": True}).get_json()["data"]["enabled"] is True


def test_runs_query_bounds_are_declared(client, sandbox):
    """Before: every parameter was a bare string (limit a bare integer), yet `status=`,
    `created_after=`, `cursor=` and `limit=0` were refused."""
    declared = _parameters("/v1/runs")
    assert "" not in declared["status"]["schema"]["enum"]
    assert declared["created_after"]["schema"]["format"] == "date-time"
    assert declared["limit"]["schema"] | {"default": 50} == {
        "type": "integer", "minimum": 1, "maximum": 200, "default": 50,
    }  # fmt: skip
    assert "pattern" in declared["cursor"]["schema"]
    for refused in ("status=", "created_after=", "cursor=", "limit=0"):
        assert client.get(f"/v1/runs?{refused}").status_code == 400, refused
    # Any cursor the pattern allows is a position, not an "Unknown cursor".
    fabricated = f"1700000000.5_{uuid.uuid4()}"
    assert client.get(f"/v1/runs?cursor={fabricated}").status_code == 200
    page = client.get("/v1/runs?cursor=0_00000000-0000-0000-0000-000000000000").get_json()
    assert page == {"data": [], "next_cursor": None}


def test_zap_runs_query_bounds_are_declared(client):
    """Before: `statuses` was `{}` in the document, so `statuses=` was "valid" and refused."""
    declared = _parameters("/v1/zap-runs")
    statuses = declared["statuses"]
    assert (statuses["style"], statuses["explode"]) == ("form", False)
    assert statuses["schema"]["minItems"] == 1
    assert "error" in statuses["schema"]["items"]["enum"]
    assert declared["search"]["schema"]["maxLength"] == 150
    assert declared["limit"]["schema"]["maximum"] == 100
    assert client.get("/v1/zap-runs?statuses=").status_code == 400
    assert client.get("/v1/zap-runs?statuses=error,success").status_code == 200
    assert client.get(f"/v1/zap-runs?search={'s' * 150}").status_code == 200
    assert client.get(f"/v1/zap-runs?search={'s' * 151}").status_code == 400
    assert client.get(f"/v1/zap-runs?zap_id={-(2**63)}").status_code == 200


def test_metadata_and_inputs_take_any_json(client, sandbox):
    """Before: a NUL inside metadata or inputs (stored as JSON text, where it is an escape) and
    `"inputs": null` (the contract gives inputs no type) were refused."""
    nested = {"x": {}, "y": [{"z": {"\u0000": "a\u0000b"}}]}
    answer = client.post(RUN_URL, json={"data": {"inputs": nested, "metadata": nested}})
    assert answer.status_code == 202, answer.get_json()
    run = client.get(f"/v1/runs/{answer.get_json()['data']['id']}").get_json()["data"]
    assert run["metadata"] == nested
    assert client.post(RUN_URL, json={"data": {"inputs": None}}).status_code == 202
    body = {"data": {"action": "a", "authentication": None, "inputs": nested, "metadata": nested}}
    assert client.post(V2, json=body).status_code == 200
    too_big = {"x": {"y": "z" * 5000}}  # the 4 KiB limit still holds
    assert client.post(RUN_URL, json={"data": {"metadata": too_big}}).status_code == 400


def test_strings_kept_in_columns_refuse_nul_and_say_so(client, sandbox):
    schema = DOCUMENT["components"]["schemas"]["RelayRunActionRequestData"]["properties"]
    assert schema["action"]["pattern"] == "^[^\\u0000]*$"
    body = {"data": {"action": "a\u0000b", "authentication": None, "inputs": {}}}
    entry = client.post(V2, json=body).get_json()["errors"][0]
    assert entry["source"] == {"pointer": "/data/action"} and "U+0000" in entry["detail"]
    hook = {"url": "http://127.0.0.1:9/a\u0000b"}
    assert client.post("/v1/webhooks", json=hook).status_code == 400
    assert client.post("/v1/zap-watches", json={"search": "a\u0000b"}).status_code == 400


def test_integral_numbers_are_integers(client):
    """Before: `{"zap_id": 344.0}` was refused; JSON Schema counts it as an integer."""
    created = client.post("/v1/zap-watches", json={"zap_id": 344.0})
    assert created.status_code == 201 and created.get_json()["data"]["zap_id"] == 344
    for wrong in (344.5, "344", True):
        assert client.post("/v1/zap-watches", json={"zap_id": wrong}).status_code == 400


def test_webhook_ids_are_uuids_and_an_unknown_one_is_404(client):
    """Before: the document said any string, and every unknown id was a 400."""
    ids = DOCUMENT["components"]["schemas"]["ZapWatchCreate"]["properties"]["webhook_ids"]
    assert ids["items"] == {"type": "string", "format": "uuid"}
    entry = client.post("/v1/zap-watches", json={"webhook_ids": ["missing"]})
    assert entry.status_code == 400
    unknown = client.post("/v1/zap-watches", json={"webhook_ids": [str(uuid.uuid4())]})
    assert unknown.status_code == 404
    assert unknown.get_json()["errors"][0]["source"] == {"pointer": "/webhook_ids/0"}
    hook = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/h"}).get_json()["data"]
    shouting = hook["id"].upper()  # a UUID in capitals names the same webhook
    watch = client.post("/v1/zap-watches", json={"webhook_ids": [shouting]})
    assert watch.status_code == 201 and watch.get_json()["data"]["webhook_ids"] == [hook["id"]]


def test_sandbox_mode_says_the_client_api_is_open(make_app):
    """Before: nothing in the document said why a sandbox run never sees a 401."""
    scheme = DOCUMENT["components"]["securitySchemes"]["bearer"]
    assert "sandbox mode" in scheme["description"] and "open" in scheme["description"]
    assert "open by design" in DOCUMENT["info"]["description"]
    sandboxed, _ = make_app(dropped=("ZAPIER_ACCESS_TOKEN", "RELAY_API_KEYS"))
    assert sandboxed.get("/v1/runs", headers={"Authorization": ""}).status_code == 200


def test_an_empty_recovery_window_queues_nothing(client):
    """Before: `until` equal to `since` was a 400, a body the document allows."""
    hook = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/h"}).get_json()["data"]
    window = {"since": "2000-01-01T00:00:00Z", "until": "2000-01-01T00:00:00Z"}
    answer = client.post(f"/v1/webhooks/{hook['id']}/recover", json=window)
    assert answer.status_code == 202
    assert answer.get_json()["data"] == {"queued": 0, "more": False}
