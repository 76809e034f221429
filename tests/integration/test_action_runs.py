"""The v2 Action Runs twin: stored, submitted, polled (no callback), settled and forwarded."""

from app.worker.tasks import deliver_one, poll_one
from tests.integration.helpers import run_row
from tests.support.processes import wait_for

BODY = {"data": {"action": "core:Vn7xbE60", "authentication": None, "inputs": {"email": "a@b.c"}}}


def test_v2_run_is_polled_settled_and_forwarded(client, services, sandbox, receiver):
    sandbox.knobs(run_seconds=0)
    body = {"data": {**BODY["data"], "callback_url": receiver.url, "metadata": {"k": "v"}}}
    created = client.post("/v2/action-runs", json=body)
    assert created.status_code == 200
    run_id = created.get_json()["data"]["id"]
    assert created.get_json()["data"]["type"] == "run"
    pending = client.get(f"/v2/action-runs/{run_id}").get_json()["data"]
    assert pending["status"] == "waiting"
    row = run_row(services, run_id)
    assert row["state"] == "submitted" and row["kind"] == "action_run"

    def settled():
        poll_one(services, "t")
        return run_row(services, run_id)["state"] == "succeeded"

    wait_for(settled, 20)
    done = client.get(f"/v2/action-runs/{run_id}").get_json()["data"]
    assert done["status"] == "success" and done["results"][0]["inputs"] == {"email": "a@b.c"}
    assert deliver_one(services, "t")
    event = receiver.received[0]["body"]
    assert event["type"] == "run.succeeded"
    assert event["data"]["kind"] == "action_run" and event["data"]["action"] == "core:Vn7xbE60"
    assert event["data"]["authentication"] is None and event["data"]["source"] == "poll"
    assert event["data"]["metadata"] == {"k": "v"}
    assert sandbox.stats()["runs"]["action_run"] == 1


def test_v2_bad_bodies_and_unknown_runs(client, sandbox):
    missing = client.post("/v2/action-runs", json={"data": {"action": "a", "inputs": {}}})
    assert missing.status_code == 400
    assert missing.get_json()["errors"][0]["source"]["pointer"] == "/data/authentication"
    assert (
        client.post(
            "/v2/action-runs", json={"data": {"action": "a", "authentication": None}}
        ).status_code
        == 400
    )
    assert client.get("/v2/action-runs/nope").status_code == 404


def test_v2_idempotency_key_returns_the_same_run(client, sandbox):
    headers = {"Idempotency-Key": "v2-once"}
    first = client.post("/v2/action-runs", json=BODY, headers=headers).get_json()["data"]["id"]
    again = client.post("/v2/action-runs", json=BODY, headers=headers).get_json()["data"]["id"]
    assert first == again and sandbox.stats()["runs"]["action_run"] == 1
