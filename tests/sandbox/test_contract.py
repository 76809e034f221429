"""Every answer of the four upstream operations is one the contract lists, with a valid body."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.sandbox.conftest import BEARER
from tests.sandbox.contract import check_answer

pytestmark = pytest.mark.usefixtures("contract_dir")

ACTION = str(uuid.uuid4())
RUN_PATH = f"/actions/v1/stored-actions/{ACTION}/run"
V2_BODY = {"data": {"action": "core:send_email", "authentication": None, "inputs": {"to": "a@b"}}}


def _run(api, body=None, headers=BEARER, path=RUN_PATH):
    answer = api.request(
        "POST", path, json=body if body is not None else {"data": {}}, headers=headers
    )
    check_answer("createStoredActionRun", answer)
    return answer


def _get(api, run_id, action=ACTION, headers=BEARER):
    answer = api.request(
        "GET", f"/actions/v1/stored-actions/{action}/runs/{run_id}", headers=headers
    )
    check_answer("getStoredActionRun", answer)
    return answer


def _v2_run(api, body=V2_BODY, headers=BEARER):
    answer = api.request("POST", "/v2/action-runs", json=body, headers=headers)
    check_answer("create-action-run", answer)
    return answer


def _v2_get(api, run_id, headers=BEARER):
    answer = api.request("GET", f"/v2/action-runs/{run_id}", headers=headers)
    check_answer("retrieve-action-run", answer)
    return answer


def test_post_accepts_and_get_says_still_processing(api):
    api.knobs(run_seconds=60)
    posted = _run(api, {"data": {"inputs": {"message": "Hello World!"}, "page": "0"}})
    assert posted.status == 202
    assert posted.json["data"]["type"] == "run"
    assert posted.header("X-RateLimit-Limit") == "200"
    assert posted.header("X-RateLimit-Remaining") == "199"

    polled = _get(api, posted.json["data"]["id"])
    assert polled.status == 202
    assert polled.header("X-RateLimit-Limit") == "600"


def test_get_gives_the_success_result_once_done(api):
    run_id = _run(api, {"data": {"inputs": {"message": "hi"}, "page": "0"}}).json["data"]["id"]
    result = _get(api, run_id)
    assert result.status == 200
    body = result.json
    assert (body["type"], body["id"], body["status"], body["errors"]) == (
        "run",
        run_id,
        "success",
        [],
    )
    assert body["results"][0]["inputs"] == {"message": "hi"}
    assert body["next_page"] == "1"


def test_get_gives_the_error_result_when_the_run_fails(api):
    api.knobs(error_rate=1)
    run_id = _run(api).json["data"]["id"]
    body = _get(api, run_id).json
    assert body["status"] == "error"
    assert body["results"] == []
    assert len(body["errors"]) == 1 and body["errors"][0]["code"]


@pytest.mark.parametrize(
    ("raw", "pointer"),
    [
        (b"this is not json", None),
        (b'{"data": {"callback_url": "not a url"}}', "/data/callback_url"),
        (b'{"data": {"idempotency_id": "12345"}}', "/data/idempotency_id"),
        (b'{"data": {"surprise": 1}}', "/data/surprise"),
        (b'{"inputs": {}}', "/data"),
    ],
    ids=["not-json", "bad-callback-url", "bad-idempotency-id", "unknown-field", "no-data"],
)
def test_post_refuses_a_malformed_body_with_400(api, raw, pointer):
    answer = api.request(
        "POST", RUN_PATH, data=raw, headers={**BEARER, "Content-Type": "application/json"}
    )
    check_answer("createStoredActionRun", answer)
    assert answer.status == 400
    pointers = [(e["source"] or {}).get("pointer") for e in answer.json["errors"]]
    assert pointer in pointers


def test_a_non_uuid_stored_action_id_is_a_400(api):
    assert _run(api, path="/actions/v1/stored-actions/not-a-uuid/run").status == 400
    assert _get(api, str(uuid.uuid4()), action="not-a-uuid").status == 400


def test_no_bearer_token_is_a_401_and_is_not_counted(api):
    assert _run(api, headers={}).status == 401
    assert _get(api, str(uuid.uuid4()), headers={"Authorization": "Basic abc"}).status == 401
    assert _v2_run(api, headers={}).status == 401
    assert _v2_get(api, str(uuid.uuid4()), headers={}).status == 401
    assert api.stats()["rate"]["run"]["max_per_window"] == 0


def test_unknown_runs_and_runs_of_another_stored_action_are_404(api):
    assert _get(api, str(uuid.uuid4())).status == 404
    run_id = _run(api).json["data"]["id"]
    assert _get(api, run_id, action=str(uuid.uuid4())).status == 404
    assert _get(api, run_id).status == 200


def test_past_the_window_limit_answers_429_with_retry_after(api):
    api.knobs(run_limit=2, get_limit=1, window_seconds=10**7)  # no boundary mid-test
    statuses = [_run(api).status for _ in range(3)]
    assert statuses == [202, 202, 429]
    refused = _run(api)
    assert refused.json["errors"][0]["code"] == "too_many_requests"
    until_reset = int(refused.header("X-RateLimit-Reset")) - time.time()
    assert abs(int(refused.header("Retry-After")) - until_reset) <= 2
    assert refused.header("X-RateLimit-Remaining") == "0"
    assert [_v2_get(api, str(uuid.uuid4())).status for _ in range(2)] == [400, 429]


@pytest.mark.parametrize(("knob", "status"), [("rate_503_burst", 503), ("rate_429_burst", 429)])
def test_fault_bursts_answer_with_retry_after_one(api, knob, status):
    api.knobs(**{knob: 1})
    for answer in (_run(api), _get(api, str(uuid.uuid4())), _v2_run(api)):
        assert answer.status == status
        assert answer.header("Retry-After") == "1"


def test_v2_run_is_accepted_then_waiting_then_done(api):
    api.knobs(run_seconds=60)
    slow = _v2_run(api)
    assert slow.status == 200 and slow.json["data"]["type"] == "run"
    assert _v2_get(api, slow.json["data"]["id"]).json["data"]["status"] == "waiting"

    api.knobs(run_seconds=0)
    done = _v2_get(api, _v2_run(api).json["data"]["id"]).json["data"]
    assert done["status"] == "success" and done["errors"] == []
    assert done["results"][0]["inputs"] == {"to": "a@b"}

    api.knobs(error_rate=1)
    failed = _v2_get(api, _v2_run(api).json["data"]["id"]).json["data"]
    assert failed["status"] == "error" and failed["errors"][0]["code"]


def test_v2_refuses_bad_bodies_and_unknown_ids_with_400(api):
    assert _v2_run(api, {"data": {"action": "x", "inputs": {}}}).status == 400
    with_callback = {"data": {**V2_BODY["data"], "callback_url": "http://127.0.0.1:9/cb"}}
    assert _v2_run(api, with_callback).status == 400  # no callback_url on v2 unless knob on
    unknown = _v2_get(api, str(uuid.uuid4()))
    assert unknown.status == 400 and unknown.json["errors"][0]["code"] == "not_found"
    assert _v2_get(api, "not-a-uuid").json["errors"][0]["code"] == "not_found"
