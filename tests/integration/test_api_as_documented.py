"""Issue 12, "API behaviour versus the README": each rule the README states, as the API does it."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

from tests.conftest import STORED_ACTION
from tests.integration.helpers import RUN_URL, trigger

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    return response.get_json()["errors"][0]


def test_idempotency_id_is_a_uuid_and_the_header_any_string(client, sandbox):
    """Before: the README implied any string for both."""
    entry = _error(client.post(RUN_URL, json={"data": {"idempotency_id": "order-42"}}), 400)
    assert entry["source"] == {"pointer": "/data/idempotency_id"}
    headers = {"Idempotency-Key": "order 42 / any text at all"}
    first = client.post(RUN_URL, json={"data": {}}, headers=headers)
    again = client.post(RUN_URL, json={"data": {}}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.get_json()["data"]["id"] == again.get_json()["data"]["id"]
    assert "`data.idempotency_id` must be a UUID" in README
    assert "`Idempotency-Key` header takes any string" in README


def test_the_same_key_with_another_body_is_a_409(client, sandbox):
    """Before: the second body was silently answered with the first run."""
    key = str(uuid.uuid4())
    first = client.post(RUN_URL, json={"data": {"idempotency_id": key, "inputs": {"n": 1}}})
    assert first.status_code == 202
    run_id = first.get_json()["data"]["id"]
    # The same request again, keys in another order: the same run.
    same = {"data": {"inputs": {"n": 1}, "idempotency_id": key, "metadata": {}}}
    assert client.post(RUN_URL, json=same).get_json()["data"]["id"] == run_id
    for other in ({"inputs": {"n": 2}}, {"inputs": {"n": 1}, "metadata": {"o": 1}}):
        entry = _error(client.post(RUN_URL, json={"data": {"idempotency_id": key, **other}}), 409)
        assert entry["code"] == "idempotency_conflict"
        assert run_id in entry["detail"] and "different request body" in entry["detail"]
        assert entry["source"] == {"pointer": "/data/idempotency_id"}

    headers = {"Idempotency-Key": "v2-order-7"}
    body = {"data": {"action": "a", "authentication": None, "inputs": {"x": 1}}}
    v2 = client.post("/v2/action-runs", json=body, headers=headers)
    assert v2.status_code == 200
    body["data"]["inputs"] = {"x": 2}
    entry = _error(client.post("/v2/action-runs", json=body, headers=headers), 409)
    assert entry["code"] == "idempotency_conflict" and entry["source"] is None
    assert "409 idempotency_conflict" in README


def test_nul_in_a_path_is_a_400_naming_the_parameter(client, sandbox):
    """Before: 404, where the README said 400."""
    for url, name in (("/v1/runs/a%00b", "run_id"), ("/v1/webhooks/%00", "webhook_id")):
        entry = _error(client.get(url), 400)
        assert entry["source"] == {"parameter": name}
    entry = _error(client.get("/v1/runs?stored_action_id=a%00b"), 400)
    assert "U+0000" in entry["detail"]


def test_query_errors_name_the_parameter_and_the_readme_says_so(client):
    entry = _error(client.get("/v1/runs?limit=0"), 400)
    assert entry["source"] == {"parameter": "limit"}
    assert '`{"pointer": "/data/inputs"}`' in README and '`{"parameter": "limit"}`' in README


def test_a_limit_out_of_range_is_refused_on_both_lists(client):
    """Before: /v1/zap-runs?limit=500 was lowered to 100 while /v1/runs?limit=201 was a 400."""
    for url in ("/v1/zap-runs?limit=500", "/v1/zap-runs?limit=101", "/v1/runs?limit=201"):
        assert _error(client.get(url), 400)["source"] == {"parameter": "limit"}, url
    assert client.get("/v1/zap-runs?limit=100").get_json()["meta"]["limit"] == 100
    assert "never lowered quietly" in README


def test_a_pending_result_is_202_with_retry_after(client, sandbox):
    """Before: 202 with no body and no hint of when to ask again."""
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client)
    pending = client.get(f"/actions/v1/stored-actions/{STORED_ACTION}/runs/{run_id}")
    assert pending.status_code == 202 and pending.get_data() == b""
    assert pending.headers["Retry-After"] == "1"
    assert "`202` with no body, as upstream answers, and `Retry-After: 1`" in README


def test_a_bad_webhook_secret_says_what_is_expected(client):
    """Before: "String does not match expected pattern." and a 17-character key (not base64,
    so no forward could be signed with it) was taken."""
    for secret in ("whsec_short", "whsec_" + "A" * 17, "whsec_" + "=" * 16, "sk_" + "A" * 20):
        body = {"url": "http://127.0.0.1:9/hook", "secret": secret}
        entry = _error(client.post("/v1/webhooks", json=body), 400)
        assert entry["source"] == {"pointer": "/secret"}
        assert '"whsec_"' in entry["detail"] and "base64" in entry["detail"]
        assert "16 to 120 characters" in entry["detail"]
    good = "whsec_" + base64.b64encode(b"twelve bytes").decode()
    body = {"url": "http://127.0.0.1:9/hook", "secret": good}
    assert client.post("/v1/webhooks", json=body).status_code == 201
