"""The operator's surface on both databases: held deliveries across a disable and enable,
recovery by time window, secret rotation with two signatures, deliveries as a resource."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.config.settings import SANDBOX_FORWARD_SECRET
from app.worker.tasks import deliver_one
from tests.integration.helpers import callback_url, run_row, trigger
from tests.support.receiver import Receiver


def settled_run(client, services) -> str:
    run_id = trigger(client)
    body = {"id": run_row(services, run_id)["upstream_run_id"], "errors": []}
    assert client.post(callback_url(run_id), json=body).status_code == 200
    return run_id


def deliver_all(services) -> int:
    sent = 0
    while deliver_one(services, "test"):
        sent += 1
    return sent


def subscribe(client, url: str) -> dict:
    made = client.post("/v1/webhooks", json={"url": url})
    assert made.status_code == 201
    return made.get_json()["data"]


def deliveries_of(client, **query) -> list[dict]:
    answer = client.get("/v1/deliveries", query_string=query)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["data"]


def test_deliveries_due_while_a_target_is_disabled_are_held_then_released_oldest_first(
    client, services, sandbox
):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    receiver = Receiver().start()
    try:
        hook = subscribe(client, receiver.url)
        path = f"/v1/webhooks/{hook['id']}"
        assert client.patch(path, json={"enabled": False}).status_code == 200
        runs = [settled_run(client, services) for _ in range(3)]
        deliver_all(services)
        held = deliveries_of(client, webhook_id=hook["id"])
        assert [d["state"] for d in held] == ["held"] * 3
        assert receiver.received == []

        assert client.patch(path, json={"enabled": True}).status_code == 200
        assert deliver_all(services) == 3
        arrived = [r["body"]["data"]["run_id"] for r in receiver.expect_count(3)]
        assert arrived == runs  # oldest first
        states = {d["state"] for d in deliveries_of(client, webhook_id=hook["id"])}
        assert states == {"delivered"}
    finally:
        receiver.close()


def test_recover_requeues_a_targets_failed_deliveries_in_the_window_once(make_app, sandbox):
    client, services = make_app({"FORWARD_RETRY_SCHEDULE": "0"})
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    receiver = Receiver(status=500).start()
    try:
        hook = subscribe(client, receiver.url)
        before = datetime.now(UTC) - timedelta(seconds=1)
        runs = [settled_run(client, services) for _ in range(2)]
        deliver_all(services)  # two attempts each: the schedule runs out
        failed = deliveries_of(client, webhook_id=hook["id"], state="failed")
        assert len(failed) == 2

        window = {"since": before.isoformat()}
        first = client.post(f"/v1/webhooks/{hook['id']}/recover", json=window)
        assert first.status_code == 202
        assert first.get_json()["data"] == {"queued": 2, "more": False}
        again = client.post(f"/v1/webhooks/{hook['id']}/recover", json=window)
        assert again.get_json()["data"] == {"queued": 0, "more": False}  # still queued
        later = {"since": datetime.now(UTC).isoformat()}
        assert client.post(f"/v1/webhooks/{hook['id']}/recover", json=later).get_json()["data"] == {
            "queued": 0,
            "more": False,
        }

        receiver.status = 204
        deliver_all(services)
        ids = {d["event_id"] for d in failed}
        got = receiver.received[-2:]
        assert {r["webhook_id"] for r in got} == ids  # the same webhook-ids
        assert {r["body"]["data"]["run_id"] for r in got} == set(runs)
    finally:
        receiver.close()


def test_after_a_rotation_forwards_verify_with_the_old_and_the_new_secret(
    client, services, sandbox
):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    receiver = Receiver().start()
    try:
        hook = subscribe(client, receiver.url)
        old = hook["secret"]
        rotated = client.post(f"/v1/webhooks/{hook['id']}/rotate-secret")
        assert rotated.status_code == 200
        new = rotated.get_json()["data"]["secret"]
        assert new != old and new.startswith("whsec_")
        shown = client.get(f"/v1/webhooks/{hook['id']}").get_json()["data"]
        assert shown["secret"].endswith("...") and shown["health"]["secret_overlap_until"]
        settled_run(client, services)
        deliver_all(services)
        [record] = receiver.expect_count(1)
        body = json.dumps(record["body"], separators=(",", ":"), sort_keys=True)
        assert len(record["headers"]["webhook-signature"].split(" ")) == 2
        for secret in (old, new):
            Webhook(secret).verify(body, record["headers"])
    finally:
        receiver.close()


def test_a_delivery_is_a_resource_with_its_attempts_and_its_own_redelivery(
    client, services, sandbox, receiver
):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    client.post("/v1/webhooks", json={"url": receiver.url, "secret": SANDBOX_FORWARD_SECRET})
    run_id = settled_run(client, services)
    deliver_all(services)
    [delivery] = deliveries_of(client, run_id=run_id)
    assert delivery["state"] == "delivered"
    detail = client.get(f"/v1/deliveries/{delivery['id']}").get_json()["data"]
    assert [a["status"] for a in detail["attempts"]] == [204]
    assert deliveries_of(client, state="succeeded", run_id=run_id)[0]["id"] == delivery["id"]
    again = client.post(f"/v1/deliveries/{delivery['id']}/redeliver")
    assert again.status_code == 202 and again.get_json()["data"]["state"] == "pending"
    deliver_all(services)
    ids = [r["webhook_id"] for r in receiver.received if r["body"]["data"]["run_id"] == run_id]
    assert ids == [delivery["event_id"]] * 2
    assert client.get("/v1/deliveries/no-such-id").status_code == 404


def test_the_deliveries_list_pages_with_a_cursor(client, services, sandbox, receiver):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    client.post("/v1/webhooks", json={"url": receiver.url, "secret": SANDBOX_FORWARD_SECRET})
    for _ in range(3):
        settled_run(client, services)
    first = client.get("/v1/deliveries", query_string={"limit": 2}).get_json()
    assert len(first["data"]) == 2 and first["next_cursor"]
    rest = client.get(
        "/v1/deliveries", query_string={"limit": 2, "cursor": first["next_cursor"]}
    ).get_json()
    seen = [d["id"] for d in first["data"] + rest["data"]]
    assert len(seen) == len(set(seen)) == 3 and rest["next_cursor"] is None


def test_once_the_overlap_is_over_forwards_carry_only_the_new_signature(make_app, sandbox):
    """With no overlap left (WEBHOOK_SECRET_OVERLAP_SECONDS=0), the old secret verifies none."""
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    client, services = make_app({"WEBHOOK_SECRET_OVERLAP_SECONDS": "0"})
    receiver = Receiver().start()
    try:
        hook = subscribe(client, receiver.url)
        rotated = client.post(f"/v1/webhooks/{hook['id']}/rotate-secret")
        new = rotated.get_json()["data"]["secret"]
        shown = client.get(f"/v1/webhooks/{hook['id']}").get_json()["data"]
        assert shown["health"]["secret_overlap_until"] is None
        settled_run(client, services)
        deliver_all(services)
        [record] = receiver.expect_count(1)
        body = json.dumps(record["body"], separators=(",", ":"), sort_keys=True)
        assert len(record["headers"]["webhook-signature"].split(" ")) == 1
        Webhook(new).verify(body, record["headers"])
        with pytest.raises(WebhookVerificationError):
            Webhook(hook["secret"]).verify(body, record["headers"])
    finally:
        receiver.close()
