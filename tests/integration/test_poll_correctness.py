"""A poll answer naming another upstream run is refused like such a callback (issue 11, #4)."""

import uuid

from app.worker.tasks import deliver_one, poll_one
from tests.integration.helpers import callback_url, run_row, snapshot, trigger
from tests.support.processes import wait_for

OWNER = "test-worker"


def _poll_calls(client, run_id: str) -> list[dict]:
    timeline = client.get(f"/v1/runs/{run_id}").get_json()["data"]["timeline"]
    return [entry["detail"] for entry in timeline if entry["event"] == "get_stored_action_run"]


def test_a_poll_answer_with_a_foreign_id_is_recorded_not_settled_and_polled_again(
    client, services, sandbox, receiver
):
    # The sandbox answers the finished run's GET with another run's id.
    sandbox.knobs(callback_drop=1.0, run_seconds=0, poll_foreign_id=1.0)
    run_id = trigger(client, callback_url=receiver.url)
    assert poll_one(services, OWNER)
    row = run_row(services, run_id)
    assert row["state"] == "submitted" and row["result_json"] is None and row["source"] is None
    assert row["poll_count"] == 1 and row["next_poll_at"] is not None  # polled again later
    assert row["lease_owner"] is None
    assert snapshot(services)["deliveries"] == []  # nothing forwarded
    assert _poll_calls(client, run_id) == [{"outcome": "run_mismatch", "status": 200}]

    # The same body as a callback gets the 409 the poll answer is refused like.
    foreign = {"id": str(uuid.uuid4()), "status": "success", "errors": []}
    refused = client.post(callback_url(run_id), json=foreign)
    assert refused.status_code == 409 and refused.get_json()["errors"][0]["code"] == "run_mismatch"

    # Once upstream answers with the run's own id, the next poll settles it.
    sandbox.knobs(poll_foreign_id=0.0)

    def settled():
        poll_one(services, OWNER)
        return run_row(services, run_id)["state"] == "succeeded"

    wait_for(settled, 10)
    row = run_row(services, run_id)
    assert row["source"] == "poll" and row["poll_count"] == 2
    assert [c["outcome"] for c in _poll_calls(client, run_id)] == ["run_mismatch", "result"]
    assert deliver_one(services, OWNER)
    assert receiver.wait_for_count(1, 5)
    event = receiver.received[0]["body"]
    assert event["type"] == "run.succeeded" and event["data"]["result"]["id"] == run_id
    assert event["data"]["upstream_run_id"] == row["upstream_run_id"]
