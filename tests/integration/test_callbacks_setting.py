"""CALLBACKS in live mode behind a URL Zapier refuses: auto polls only, at once; on waits for a
callback, as before. The simulator plans callbacks only for a run POSTed with a callback_url."""

import time

from app.runs.callback_grace import MIN_HISTORY
from app.runs.callback_health import check_callbacks_missing
from app.worker.tasks import poll_one
from tests.integration.helpers import run_row, trigger
from tests.support.processes import wait_for

OWNER = "test-worker"
GRACE = 600  # a grace no test waits out: a poll within seconds was not delayed by it
NO_CALLBACKS = {
    "pending": 0,
    "sent": 0,
    "failed": 0,
    "dropped": 0,
    "duplicated": 0,
    "attempts": 0,
    "failed_attempts": 0,
}


def test_auto_behind_a_non_public_url_polls_only_without_the_grace(make_app, sandbox):
    # relay_env's PUBLIC_BASE_URL is http://127.0.0.1:9: not public https.
    client, services = make_app({"CALLBACK_GRACE_SECONDS": str(GRACE)}, dropped=("CALLBACKS",))
    sandbox.knobs(run_seconds=0)
    submitted = time.time()
    run_id = trigger(client)

    row = run_row(services, run_id)
    assert row["state"] == "submitted" and row["upstream_run_id"]
    assert sandbox.stats()["callbacks"] == NO_CALLBACKS  # the POST upstream had no callback_url
    assert row["next_poll_at"] < submitted + GRACE / 10

    def settled() -> bool:
        poll_one(services, OWNER)
        return run_row(services, run_id)["state"] == "succeeded"

    wait_for(settled, 15)
    row = run_row(services, run_id)
    assert row["source"] == "poll" and row["poll_count"] == 1
    assert row["settled_at"] - submitted < 15

    ready = client.get("/readyz").get_json()
    assert ready["status"] == "ready" and ready["mode"] == "live"
    assert ready["callbacks"] == {
        "state": "off",
        "reason": "auto: PUBLIC_BASE_URL is not public https",
    }


def test_on_behind_the_same_url_sends_a_callback_url_and_waits_out_the_grace(make_app, sandbox):
    client, services = make_app({"CALLBACK_GRACE_SECONDS": str(GRACE), "CALLBACKS": "on"})
    sandbox.knobs(run_seconds=0)
    submitted = time.time()
    run_id = trigger(client)

    row = run_row(services, run_id)
    assert row["state"] == "submitted"
    assert sandbox.stats()["callbacks"] != NO_CALLBACKS  # planned for the callback_url sent
    assert row["next_poll_at"] >= submitted + GRACE
    assert not poll_one(services, OWNER)  # nothing due before the grace
    assert client.get("/readyz").get_json()["callbacks"] == {
        "state": "on",
        "reason": "CALLBACKS=on",
    }


def test_polling_only_is_not_announced_as_missing_callbacks(make_app, sandbox):
    """Every run settled by a poll, as it must be with no callback_url: no callbacks.missing."""
    client, services = make_app(dropped=("CALLBACKS",))
    sandbox.knobs(run_seconds=0)
    run_ids = [trigger(client) for _ in range(MIN_HISTORY)]

    def all_polled() -> bool:
        poll_one(services, OWNER)
        return all(run_row(services, r)["source"] == "poll" for r in run_ids)

    wait_for(all_polled, 30)
    assert services.grace.miss_rate("stored_action") == 1.0
    assert not check_callbacks_missing(services)
