"""Expiry (issue 11, #5): one last poll before a run expires, and a result that comes after
expiry forwarded once as `run.late_result`."""

import json
import time

from sqlalchemy import select, update

from app.runs.polling import apply_poll_outcome, poll
from app.runs.settle import settle
from app.runs.states import RunState
from app.store import runs_repo
from app.store.engine import read, write
from app.store.tables import deliveries, runs
from app.worker.tasks import deliver_one, poll_one, submit_one
from tests.integration.helpers import callback_url, run_row, trigger
from tests.support.processes import wait_for

OWNER = "test-worker"
EIGHT_DAYS = 8 * 86400


def _backdate(services, run_id: str, seconds: float) -> None:
    with write(services.engine) as conn:
        conn.execute(
            update(runs).where(runs.c.id == run_id).values(created_at=time.time() - seconds)
        )


def _gets(sandbox) -> int:
    return sandbox.stats()["rate"]["get"]["max_per_window"]


def _deliveries(services, run_id: str) -> list[dict]:
    with read(services.engine) as conn:
        stmt = select(deliveries).where(deliveries.c.run_id == run_id)
        return [dict(r) for r in conn.execute(stmt.order_by(deliveries.c.created_at)).mappings()]


def _deliver_all(services) -> None:
    while deliver_one(services, OWNER):
        pass


# --- one last poll before expiry ------------------------------------------------------------


def test_a_result_ready_just_before_max_age_is_fetched_by_a_last_poll(make_app, sandbox, receiver):
    # The finding: ready 18.5 s in with RUN_MAX_AGE_SECONDS=20, expired at 23 s unpolled.
    client, services = make_app({"RUN_MAX_AGE_SECONDS": "2"})
    sandbox.knobs(callback_drop=1.0, run_seconds=1.6)
    run_id = trigger(client, callback_url=receiver.url)
    assert poll_one(services, OWNER)  # upstream: still running
    assert run_row(services, run_id)["state"] == "submitted"
    created = run_row(services, run_id)["created_at"]
    time.sleep(max(0.0, created + 2.3 - time.time()))  # past max age, the result ready
    assert poll_one(services, OWNER)
    row = run_row(services, run_id)
    assert row["state"] == "succeeded" and row["source"] == "poll" and row["poll_count"] == 2
    _deliver_all(services)
    assert [r["body"]["type"] for r in receiver.expect_count(1)] == ["run.succeeded"]


def test_a_run_still_running_at_max_age_expires_after_its_last_poll(
    client, services, sandbox, receiver
):
    sandbox.knobs(callback_drop=1.0, run_seconds=3600)
    run_id = trigger(client, callback_url=receiver.url)
    _backdate(services, run_id, EIGHT_DAYS)
    gets = _gets(sandbox)
    assert poll_one(services, OWNER)
    assert _gets(sandbox) == gets + 1  # the last poll
    row = run_row(services, run_id)
    assert row["state"] == "expired" and row["poll_count"] == 1 and row["lease_owner"] is None
    _deliver_all(services)
    event = receiver.expect_count(1)[0]["body"]
    assert event["type"] == "run.expired" and event["data"]["result"] is None


def test_a_last_poll_upstream_did_not_answer_is_retried_before_expiry(make_app, sandbox):
    client, services = make_app({"RUN_MAX_AGE_SECONDS": "1"})
    sandbox.knobs(callback_drop=1.0, run_seconds=0)
    run_id = trigger(client)
    time.sleep(1.1)
    sandbox.knobs(rate_503_burst=1.0)  # upstream answers 503 to the last poll
    assert poll_one(services, OWNER)
    row = run_row(services, run_id)
    assert row["state"] == "submitted" and row["next_poll_at"] is not None
    sandbox.knobs(rate_503_burst=0.0)

    def final():
        poll_one(services, OWNER)
        return run_row(services, run_id)["state"] != "submitted"

    wait_for(final, 10)
    assert run_row(services, run_id)["state"] == "succeeded"


def test_a_queued_run_never_accepted_expires_without_a_call(client, services, sandbox):
    sandbox.knobs(rate_503_burst=1.0, callback_drop=1.0)
    run_id = trigger(client)
    assert run_row(services, run_id)["state"] == "queued"
    sandbox.knobs(rate_503_burst=0.0)
    _backdate(services, run_id, EIGHT_DAYS)
    with write(services.engine) as conn:  # its resubmission due now
        conn.execute(update(runs).where(runs.c.id == run_id).values(next_submit_at=time.time()))
    runs_before = sandbox.stats()["runs"]["stored_action"]
    assert submit_one(services, OWNER)
    assert run_row(services, run_id)["state"] == "expired"
    assert sandbox.stats()["runs"]["stored_action"] == runs_before


# --- a result after expiry ------------------------------------------------------------------


def _expired_run(client, services, sandbox, receiver) -> dict:
    """A v1 run that expired after its last poll (upstream still running), forwarded."""
    sandbox.knobs(callback_drop=1.0, run_seconds=3600)
    run_id = trigger(client, callback_url=receiver.url)
    _backdate(services, run_id, EIGHT_DAYS)
    assert poll_one(services, OWNER)
    row = run_row(services, run_id)
    assert row["state"] == "expired"
    return row


def _hook(client, url: str, statuses: list[str]) -> str:
    created = client.post("/v1/webhooks", json={"url": url, "statuses": statuses})
    assert created.status_code == 201, created.get_json()
    return created.get_json()["data"]["id"]


def test_a_callback_after_expiry_is_forwarded_once_as_a_late_result(
    client, services, sandbox, receiver
):
    hooks = {
        status: _hook(client, f"http://127.0.0.1:9/{status}", [status])
        for status in ("succeeded", "failed", "expired")
    }
    row = _expired_run(client, services, sandbox, receiver)
    run_id = row["id"]
    body = {"id": row["upstream_run_id"], "status": "success", "results": [{"n": 1}], "errors": []}
    late = client.post(callback_url(run_id), json=body)
    assert late.status_code == 200 and late.get_json()["data"]["verdict"] == "late"
    again = client.post(callback_url(run_id), json=body)
    assert again.get_json()["data"]["verdict"] == "duplicate"

    stored = run_row(services, run_id)
    assert stored["state"] == "expired" and stored["settled_at"] == row["settled_at"]
    detail = client.get(f"/v1/runs/{run_id}").get_json()["data"]
    assert detail["state"] == "expired" and detail["result"]["results"] == [{"n": 1}]
    assert detail["result"]["id"] == run_id
    callbacks = [e["detail"]["verdict"] for e in detail["timeline"] if e["event"] == "callback"]
    assert callbacks == ["late", "duplicate"]

    # Filters match the result's status (and expired, for who was told the run expired).
    rows = _deliveries(services, run_id)
    by_hook = {
        status: sorted(d["event_type"] for d in rows if d["webhook_id"] == hook)
        for status, hook in hooks.items()
    }
    assert by_hook == {
        "succeeded": ["run.late_result"],
        "failed": [],
        "expired": ["run.expired", "run.late_result"],
    }
    _deliver_all(services)
    events = [r["body"] for r in receiver.received]
    assert [e["type"] for e in events] == ["run.expired", "run.late_result"]
    data = events[1]["data"]
    assert data["late"] is True and data["source"] == "callback" and data["run_id"] == run_id
    assert data["result"]["status"] == "success" and data["result"]["id"] == run_id
    assert data["expired_at"] == events[0]["timestamp"]
    assert len({r["webhook_id"] for r in receiver.received}) == 2  # two events


def test_a_poll_answer_that_comes_after_expiry_is_a_late_result(
    client, services, sandbox, receiver
):
    # A poll in flight while the run expires (its lease ran out and another worker expired it).
    sandbox.knobs(callback_drop=1.0, run_seconds=0)
    run_id = trigger(client, callback_url=receiver.url)
    run = run_row(services, run_id)
    outcome = poll(services, run)  # the real answer: the result
    with write(services.engine) as conn:
        current = runs_repo.get_run(conn, run_id)
        assert settle(conn, current, RunState.EXPIRED, time.time(), reason="too old")
    assert apply_poll_outcome(services, run, outcome, time.time()) == "late"
    assert run_row(services, run_id)["state"] == "expired"
    _deliver_all(services)
    events = [r["body"] for r in receiver.expect_count(2)]
    assert [e["type"] for e in events] == ["run.expired", "run.late_result"]
    assert events[1]["data"]["source"] == "poll"
    assert json.loads(run_row(services, run_id)["result_json"])["status"] == "success"
