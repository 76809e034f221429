"""A v2 run whose result says `throttled` is submitted again after the error's `delay`."""

import time
import uuid

import pytest

from app.worker.tasks import poll_one, submit_one
from tests.integration.helpers import run_row

BODY = {"data": {"action": "core:x", "authentication": None, "inputs": {"n": 1}}}


def _throttled(delay):
    error = {"code": "throttled", "title": "Throttled", "detail": "slow down", "delay": delay}
    return {"data": {"type": "run", "status": "error", "results": [], "errors": [error]}}


def _success():
    return {"data": {"type": "run", "status": "success", "results": [{"ok": 1}], "errors": []}}


@pytest.fixture
def v2_upstream(httpserver, make_app):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    for upstream_id in (first, second):
        httpserver.expect_oneshot_request("/v2/action-runs", method="POST").respond_with_json(
            {"data": {"type": "run", "id": upstream_id}}
        )
    client, services = make_app({"ZAPIER_API_BASE": httpserver.url_for("")})
    return client, services, httpserver, (first, second)


def test_throttled_run_is_resubmitted_after_its_delay(v2_upstream):
    client, services, upstream, (first, second) = v2_upstream
    upstream.expect_request(f"/v2/action-runs/{first}").respond_with_json(_throttled(30))
    upstream.expect_request(f"/v2/action-runs/{second}").respond_with_json(_success())
    run_id = client.post("/v2/action-runs", json=BODY).get_json()["data"]["id"]
    assert run_row(services, run_id)["upstream_run_id"] == first

    before = time.time()
    _make_due(services, run_id, "next_poll_at")
    assert poll_one(services, "t")
    row = run_row(services, run_id)
    assert row["state"] == "queued" and row["throttle_count"] == 1
    assert row["upstream_run_id"] is None and "throttled" in row["reason"]
    # The delay is honoured: not due before 30 s from now.
    assert row["next_submit_at"] >= before + 30
    assert not submit_one(services, "t")
    waiting = client.get(f"/v2/action-runs/{run_id}").get_json()["data"]
    assert waiting["status"] == "waiting"

    _make_due(services, run_id, "next_submit_at")
    assert submit_one(services, "t")
    assert run_row(services, run_id)["upstream_run_id"] == second
    _make_due(services, run_id, "next_poll_at")
    assert poll_one(services, "t")
    row = run_row(services, run_id)
    assert row["state"] == "succeeded" and row["throttle_count"] == 1
    posts = [entry for entry, _ in upstream.log if entry.method == "POST"]
    assert len(posts) == 2


def test_a_run_that_keeps_being_throttled_fails_in_the_end(v2_upstream):
    client, services, upstream, (first, _second) = v2_upstream
    upstream.expect_request(f"/v2/action-runs/{first}").respond_with_json(_throttled(1))
    run_id = client.post("/v2/action-runs", json=BODY).get_json()["data"]["id"]
    from app.store.engine import write
    from app.store.tables import runs

    with write(services.engine) as conn:  # as if it had been throttled five times already
        conn.execute(runs.update().where(runs.c.id == run_id).values(throttle_count=5))
    _make_due(services, run_id, "next_poll_at")
    assert poll_one(services, "t")
    row = run_row(services, run_id)
    assert row["state"] == "failed" and row["source"] == "poll"
    result = client.get(f"/v2/action-runs/{run_id}").get_json()["data"]
    assert result["status"] == "error" and result["errors"][0]["delay"] == 1


def _make_due(services, run_id, column):
    from app.store.engine import write
    from app.store.tables import runs

    with write(services.engine) as conn:
        conn.execute(runs.update().where(runs.c.id == run_id).values({column: time.time() - 1}))
