"""Operational events reach OPS_WEBHOOK_URLS, signed with OPS_WEBHOOK_SECRET, once each."""

from __future__ import annotations

import pytest

from app.runs.callback_grace import MIN_HISTORY
from app.runs.callback_health import check_callbacks_missing
from app.worker.tasks import deliver_one, poll_one
from tests.integration.conftest import OPS_SECRET
from tests.integration.helpers import RUN_URL, callback_url, due_polls, run_row, trigger
from tests.support.processes import wait_for
from tests.support.receiver import Receiver


@pytest.fixture
def subscriber():
    box = Receiver().start()
    yield box
    box.close()


def ops_app(make_app, ops_receiver, **env):
    return make_app({"OPS_WEBHOOK_URLS": ops_receiver.url, "OPS_WEBHOOK_SECRET": OPS_SECRET, **env})


def settled_run(client, services) -> str:
    run_id = trigger(client)
    body = {"id": run_row(services, run_id)["upstream_run_id"], "errors": []}
    assert client.post(callback_url(run_id), json=body).status_code == 200
    return run_id


def deliver_all(services) -> None:
    while deliver_one(services, "test"):
        pass


def ops_of(receiver, event_type: str) -> list[dict]:
    return [r["body"] for r in receiver.received if r["body"]["type"] == event_type]


def test_a_delivery_out_of_retries_is_announced(make_app, sandbox, ops_receiver, subscriber):
    client, services = ops_app(make_app, ops_receiver, FORWARD_RETRY_SCHEDULE="0")
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    hook = client.post("/v1/webhooks", json={"url": subscriber.url}).get_json()["data"]
    subscriber.status = 500
    run_id = settled_run(client, services)
    deliver_all(services)
    [event] = ops_of(ops_receiver, "delivery.exhausted")
    assert event["data"]["run_id"] == run_id and event["data"]["webhook_id"] == hook["id"]
    assert event["data"]["attempts"] == 2 and event["data"]["last_status"] == 500


def test_a_gone_target_is_disabled_then_recovered_when_enabled(
    make_app, sandbox, ops_receiver, subscriber
):
    client, services = ops_app(make_app, ops_receiver)
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    hook = client.post("/v1/webhooks", json={"url": subscriber.url}).get_json()["data"]
    subscriber.status = 410
    settled_run(client, services)
    deliver_all(services)
    [disabled] = ops_of(ops_receiver, "webhook.disabled")
    assert disabled["data"] == {
        "webhook_id": hook["id"],
        "url": subscriber.url,
        "reason": "answered 410 Gone",
    }
    assert client.get(f"/v1/webhooks/{hook['id']}").get_json()["data"]["health"]["state"] == (
        "disabled"
    )
    settled_run(client, services)
    deliver_all(services)  # due while disabled: held, not sent
    assert len(subscriber.received) == 1
    subscriber.status = 204
    client.patch(f"/v1/webhooks/{hook['id']}", json={"enabled": True})
    deliver_all(services)
    [recovered] = ops_of(ops_receiver, "webhook.recovered")
    assert recovered["data"]["webhook_id"] == hook["id"] and recovered["data"]["released"] == 1
    assert [r["status"] for r in subscriber.received] == [410, 204]


def test_a_target_failing_without_a_break_is_disabled_after_the_setting(
    make_app, sandbox, ops_receiver, subscriber
):
    client, services = ops_app(
        make_app,
        ops_receiver,
        WEBHOOK_DISABLE_AFTER_SECONDS="1",
        FORWARD_RETRY_SCHEDULE="1,1,1,1,1",
        FORWARD_BREAKER_FAILURES="100",
    )
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    hook = client.post("/v1/webhooks", json={"url": subscriber.url}).get_json()["data"]
    subscriber.status = 503
    settled_run(client, services)

    def disabled():
        deliver_one(services, "test")
        return ops_of(ops_receiver, "webhook.disabled") or None

    [event] = wait_for(disabled, 15)
    assert event["data"]["webhook_id"] == hook["id"]
    assert "failing without a break" in event["data"]["reason"]
    health = client.get(f"/v1/webhooks/{hook['id']}").get_json()["data"]["health"]
    assert health["state"] == "disabled" and health["consecutive_failures"] >= 2


def test_a_spent_run_budget_is_announced_once_per_window(make_app, sandbox, ops_receiver):
    client, services = ops_app(make_app, ops_receiver, ZAPIER_RUN_LIMIT="1")
    for _ in range(3):
        assert client.post(RUN_URL, json={"data": {"inputs": {}}}).status_code == 202
    deliver_all(services)
    [event] = ops_of(ops_receiver, "budget.exhausted")
    assert event["data"]["bucket"] == "run" and event["data"]["limit"] == 1


def test_a_run_given_up_on_is_announced(make_app, sandbox, ops_receiver):
    client, services = ops_app(make_app, ops_receiver, RUN_MAX_AGE_SECONDS="1")
    sandbox.knobs(callback_drop=1.0, run_seconds=3600)
    run_id = trigger(client)

    def expired():
        poll_one(services, "test")
        return run_row(services, run_id)["state"] == "expired"

    assert wait_for(expired, 20)
    deliver_all(services)
    [event] = ops_of(ops_receiver, "run.expired")
    assert event["data"]["run_id"] == run_id and "RUN_MAX_AGE_SECONDS" in event["data"]["reason"]


def test_callbacks_that_stop_arriving_are_announced(make_app, sandbox, ops_receiver):
    """Every run settled by a poll (callbacks dropped): the maintenance lane says so, once."""
    client, services = ops_app(make_app, ops_receiver, CALLBACK_GRACE_SECONDS="0")
    sandbox.knobs(callback_drop=1.0, run_seconds=0.05)
    run_ids = [trigger(client) for _ in range(MIN_HISTORY)]

    def all_polled():
        poll_one(services, "test")
        return all(run_row(services, r)["source"] == "poll" for r in run_ids)

    assert wait_for(all_polled, 30)
    assert check_callbacks_missing(services) and check_callbacks_missing(services)
    deliver_all(services)
    [event] = ops_of(ops_receiver, "callbacks.missing")
    assert event["data"]["share_settled_by_poll"] == 1.0


def test_polls_waiting_for_the_get_budget_are_announced_with_the_shortfall(
    make_app, sandbox, ops_receiver
):
    """Claims skip a spent budget (nothing is deferred), yet the operator hears of it: the
    first poll that leaves more due than the window has announces how far it falls short."""
    _client, services = ops_app(
        make_app, ops_receiver, ZAPIER_GET_LIMIT="2", POLL_MAX_INTERVAL_SECONDS="300"
    )
    due_polls(services, 5)
    assert poll_one(services, "test") and not poll_one(services, "test")
    deliver_all(services)
    [event] = ops_of(ops_receiver, "budget.exhausted")
    data = event["data"]
    assert data["bucket"] == "get" and data["limit"] == 2
    assert data["polls_due"] == 5 and data["open_runs"] == 5  # the one being polled included
    assert data["shortfall_per_window"] == 3 and data["next_call_in_seconds"] > 0
