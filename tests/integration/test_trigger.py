"""The trigger endpoint against the sandbox: stored first, submitted once, idempotent."""

import uuid

from sqlalchemy import func, select

from app.store.engine import read
from app.store.tables import runs, upstream_calls
from tests.conftest import STORED_ACTION

RUN_URL = f"/actions/v1/stored-actions/{STORED_ACTION}/run"


def _count(services, table):
    with read(services.engine) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_trigger_answers_202_with_location_and_submits(client, services, sandbox):
    response = client.post(RUN_URL, json={"data": {"inputs": {"message": "hi"}}})
    assert response.status_code == 202
    run_id = response.get_json()["data"]["id"]
    assert response.get_json()["data"]["type"] == "run"
    assert response.headers["Location"].endswith(f"/runs/{run_id}")
    detail = client.get(f"/v1/runs/{run_id}").get_json()["data"]
    assert detail["state"] == "submitted" and detail["upstream_run_id"]
    assert sandbox.stats()["runs"]["stored_action"] == 1


def test_repeat_with_same_idempotency_id_is_the_same_run(client, services, sandbox):
    body = {"data": {"inputs": {}, "idempotency_id": str(uuid.uuid4())}}
    first = client.post(RUN_URL, json=body).get_json()["data"]["id"]
    second = client.post(RUN_URL, json=body).get_json()["data"]["id"]
    assert first == second
    assert _count(services, runs) == 1 and _count(services, upstream_calls) == 1


def test_idempotency_key_header_works_like_the_body_field(client, services, sandbox):
    headers = {"Idempotency-Key": "order-42"}
    first = client.post(RUN_URL, json={"data": {}}, headers=headers).get_json()["data"]["id"]
    again = client.post(RUN_URL, json={"data": {}}, headers=headers).get_json()["data"]["id"]
    other = client.post(RUN_URL, json={"data": {}}, headers={"Idempotency-Key": "order-43"})
    assert first == again != other.get_json()["data"]["id"]


def test_same_key_for_another_stored_action_is_a_conflict(client, sandbox):
    body = {"data": {"idempotency_id": str(uuid.uuid4())}}
    assert client.post(RUN_URL, json=body).status_code == 202
    other = f"/actions/v1/stored-actions/{uuid.uuid4()}/run"
    response = client.post(other, json=body)
    assert response.status_code == 409
    assert response.get_json()["errors"][0]["code"] == "idempotency_conflict"


def test_upstream_unavailable_still_answers_202_and_queues(client, services, sandbox):
    sandbox.knobs(rate_503_burst=1.0)
    response = client.post(RUN_URL, json={"data": {"inputs": {}}})
    assert response.status_code == 202
    run_id = response.get_json()["data"]["id"]
    detail = client.get(f"/v1/runs/{run_id}").get_json()["data"]
    assert detail["state"] == "queued" and "503" in detail["reason"]


def test_result_is_202_until_settled(client, sandbox):
    run_id = client.post(RUN_URL, json={"data": {}}).get_json()["data"]["id"]
    response = client.get(f"/actions/v1/stored-actions/{STORED_ACTION}/runs/{run_id}")
    assert response.status_code == 202
    wrong = client.get(f"/actions/v1/stored-actions/{uuid.uuid4()}/runs/{run_id}")
    assert wrong.status_code == 404 and wrong.get_json()["errors"][0]["status"] == 404


def test_client_api_needs_a_key(client, sandbox):
    anonymous = client.post(RUN_URL, json={"data": {}}, headers={"Authorization": ""})
    wrong = client.post(RUN_URL, json={"data": {}}, headers={"Authorization": "Bearer nope"})
    assert anonymous.status_code == wrong.status_code == 401
    assert anonymous.get_json()["errors"][0]["code"] == "unauthorized"


def test_bad_bodies_are_400_and_store_nothing(client, services, sandbox):
    cases = [
        b"not json",
        b"[1, 2]",
        b'{"data": {"callback_url": "not a url"}}',
        b'{"data": {"idempotency_id": "not-a-uuid"}}',
        b'{"data": {"unknown": 1}}',
        b'{"data": {"metadata": {"big": "' + b"x" * 5000 + b'"}}}',
        b"{}",
        b"\xff\xfe",
    ]
    for raw in cases:
        response = client.post(RUN_URL, data=raw, content_type="application/json")
        assert response.status_code == 400, raw
        assert response.get_json()["errors"][0]["status"] == 400
    assert (
        client.post("/actions/v1/stored-actions/not-a-uuid/run", json={"data": {}}).status_code
        == 400
    )
    assert _count(services, runs) == 0


def test_private_callback_url_refused_unless_allowed(make_app, sandbox):
    client, _ = make_app({"FORWARD_ALLOW_PRIVATE": "false"})
    body = {"data": {"callback_url": "http://127.0.0.1:9999/hook"}}
    response = client.post(RUN_URL, json=body)
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["source"]["pointer"] == "/data/callback_url"
