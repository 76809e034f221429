"""Worker passes against the sandbox: submit, poll, expire, deliver, retry, redeliver."""

import time
import uuid

from sqlalchemy import update

from app.store.engine import write
from app.store.tables import runs
from app.worker.tasks import deliver_one, poll_one, submit_one
from tests.integration.helpers import callback_url, run_row, snapshot, trigger
from tests.support.processes import wait_for

OWNER = "test-worker"


def _poll_until_final(services, run_id):
    def settled():
        poll_one(services, OWNER)
        return run_row(services, run_id)["state"] in ("succeeded", "failed", "expired")

    wait_for(settled, 20)


def test_lost_callback_is_caught_by_polling_and_forwarded(client, services, sandbox, receiver):
    sandbox.knobs(callback_drop=1.0, run_seconds=0)
    run_id = trigger(client, callback_url=receiver.url, metadata={"order": 7})
    _poll_until_final(services, run_id)
    row = run_row(services, run_id)
    assert row["state"] == "succeeded" and row["source"] == "poll" and row["poll_count"] >= 1
    assert deliver_one(services, OWNER)
    assert receiver.wait_for(lambda got: len(got) == 1, 5)
    event = receiver.received[0]["body"]
    assert event["type"] == "run.succeeded"
    data = event["data"]
    assert data["run_id"] == run_id and data["source"] == "poll" and data["kind"] == "stored_action"
    assert data["metadata"] == {"order": 7} and data["upstream_run_id"] == row["upstream_run_id"]
    assert data["result"]["id"] == run_id and data["result"]["status"] == "success"
    assert not deliver_one(services, OWNER)  # delivered once, nothing left


def test_failing_subscriber_is_retried_with_the_same_webhook_id(
    client, services, sandbox, receiver
):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client, callback_url=receiver.url)
    row = run_row(services, run_id)
    body = {"id": row["upstream_run_id"], "status": "error", "errors": [{"code": "partner"}]}
    assert client.post(callback_url(run_id), json=body).status_code == 200
    receiver.script = [500, 503]
    for _ in range(3):
        assert deliver_one(services, OWNER)
    assert [r["status"] for r in receiver.received] == [500, 503, 204]
    assert len({r["webhook_id"] for r in receiver.received}) == 1
    assert receiver.received[0]["body"]["type"] == "run.failed"
    detail = client.get(f"/v1/runs/{run_id}").get_json()["data"]
    delivery = detail["deliveries"][0]
    assert delivery["state"] == "delivered" and len(delivery["attempts"]) == 3
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 204]


def test_schedule_exhausted_marks_failed_then_redeliver_sends_same_event(
    client, services, sandbox, receiver
):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client, callback_url=receiver.url)
    upstream = run_row(services, run_id)["upstream_run_id"]
    client.post(callback_url(run_id), json={"id": upstream, "errors": []})
    receiver.script = [500] * 4  # schedule 0,0,0: four attempts in all
    while deliver_one(services, OWNER):
        pass
    detail = client.get(f"/v1/runs/{run_id}").get_json()["data"]
    assert detail["deliveries"][0]["state"] == "failed"
    assert len(detail["deliveries"][0]["attempts"]) == 4
    response = client.post(f"/v1/runs/{run_id}/redeliver")
    assert response.status_code == 202
    assert deliver_one(services, OWNER)
    assert receiver.received[-1]["status"] == 204
    assert len({r["webhook_id"] for r in receiver.received}) == 1


def test_410_disables_the_subscription(client, services, sandbox, receiver):
    created = client.post("/v1/webhooks", json={"url": receiver.url})
    assert created.status_code == 201
    hook = created.get_json()["data"]
    assert hook["secret"].startswith("whsec_")
    receiver.use_secret(hook["secret"])
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client)
    upstream = run_row(services, run_id)["upstream_run_id"]
    client.post(callback_url(run_id), json={"id": upstream, "errors": [], "status": "success"})
    receiver.script = [410]
    assert deliver_one(services, OWNER)
    assert not deliver_one(services, OWNER)  # gone: no retry
    state = client.get(f"/v1/webhooks/{hook['id']}").get_json()["data"]
    assert state["enabled"] is False and "410" in state["disabled_reason"]
    assert client.get(f"/v1/runs/{run_id}").get_json()["data"]["deliveries"][0]["state"] == "gone"


def test_queued_run_is_submitted_by_the_worker_with_the_same_idempotency_id(
    client, services, sandbox
):
    sandbox.knobs(rate_503_burst=1.0, callback_drop=1.0)
    run_id = trigger(client)
    assert run_row(services, run_id)["state"] == "queued"
    sandbox.knobs(rate_503_burst=0.0)
    wait_for(
        lambda: submit_one(services, OWNER) and run_row(services, run_id)["upstream_run_id"], 10
    )
    row = run_row(services, run_id)
    assert row["state"] == "submitted" and row["submit_attempts"] == 2
    assert sandbox.stats()["runs"]["stored_action"] == 1


def test_run_past_max_age_expires_and_is_forwarded(client, services, sandbox, receiver):
    sandbox.knobs(callback_drop=1.0, run_seconds=3600)
    run_id = trigger(client, callback_url=receiver.url)
    with write(services.engine) as conn:  # a run created eight days ago
        conn.execute(
            update(runs).where(runs.c.id == run_id).values(created_at=time.time() - 8 * 86400)
        )
    calls_before = sandbox.stats()["rate"]["get"]["max_per_window"]
    assert poll_one(services, OWNER)
    assert run_row(services, run_id)["state"] == "expired"
    # One last poll first (issue 11): upstream answered that the run is still processing.
    assert sandbox.stats()["rate"]["get"]["max_per_window"] == calls_before + 1
    assert deliver_one(services, OWNER)
    event = receiver.received[0]["body"]
    assert event["type"] == "run.expired" and event["data"]["result"] is None


def test_upstream_404_three_times_fails_the_run(client, services, sandbox, receiver):
    sandbox.knobs(callback_drop=1.0)
    run_id = trigger(client, callback_url=receiver.url)
    with write(services.engine) as conn:
        conn.execute(
            update(runs).where(runs.c.id == run_id).values(upstream_run_id=str(uuid.uuid4()))
        )
    _poll_until_final(services, run_id)
    row = run_row(services, run_id)
    assert row["state"] == "failed" and "404" in row["reason"] and row["not_found_count"] == 3
    assert deliver_one(services, OWNER)
    assert receiver.received[0]["body"]["data"]["reason"] == row["reason"]


def test_run_settled_by_callback_is_never_polled(client, services, sandbox):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client)
    upstream = run_row(services, run_id)["upstream_run_id"]
    client.post(callback_url(run_id), json={"id": upstream, "errors": []})
    assert not poll_one(services, OWNER)
    assert snapshot(services)["runs"][0]["poll_count"] == 0
