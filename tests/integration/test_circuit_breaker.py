"""A target failing again and again rests: its due deliveries wait, shown as paused with the
reason, without spending attempts; after the rest one delivery goes first."""

from __future__ import annotations

from app.worker.tasks import deliver_one
from tests.integration.helpers import callback_url, run_row, trigger
from tests.support.processes import wait_for


def settled_run(client, services) -> str:
    run_id = trigger(client)
    body = {"id": run_row(services, run_id)["upstream_run_id"], "errors": []}
    assert client.post(callback_url(run_id), json=body).status_code == 200
    return run_id


def the_delivery(client, run_id: str) -> dict:
    [delivery] = client.get(f"/v1/runs/{run_id}").get_json()["data"]["deliveries"]
    return delivery


def test_a_failing_target_rests_without_spending_attempts(make_app, sandbox, receiver):
    client, services = make_app(
        {
            "FORWARD_URLS": receiver.url,
            "FORWARD_RETRY_SCHEDULE": "0,0,0,0,0,0",
            "FORWARD_BREAKER_FAILURES": "2",
            "FORWARD_BREAKER_COOLDOWN_SECONDS": "0.5",
        }
    )
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    receiver.status = 500
    first, second = settled_run(client, services), settled_run(client, services)
    assert deliver_one(services, "t") and deliver_one(services, "t")  # two failures: it opens

    assert not deliver_one(services, "t")  # both due, neither sent while the target rests
    for run_id in (first, second):
        delivery = the_delivery(client, run_id)
        assert delivery["state"] == "paused"
        assert "circuit breaker" in delivery["paused_reason"]
    attempts = [len(the_delivery(client, r)["attempts"]) for r in (first, second)]
    assert sum(attempts) == 2

    receiver.status = 204
    assert wait_for(lambda: deliver_one(services, "t"), 10)  # after the rest: one goes first
    assert deliver_one(services, "t")  # it succeeded: the breaker is closed again
    assert {the_delivery(client, r)["state"] for r in (first, second)} == {"delivered"}
