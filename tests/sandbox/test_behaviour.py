"""Idempotency, retention, rate windows, knobs and reset, as a client of the sandbox sees them."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask

from app.config.settings import Settings
from app.sandbox import create_sandbox_app, init_app
from app.sandbox.knobs import KnobError
from tests.sandbox.conftest import BEARER, InProcessApi

ACTION = str(uuid.uuid4())
RUN_PATH = f"/actions/v1/stored-actions/{ACTION}/run"


def _run(api, action=ACTION, **data):
    return api.request(
        "POST", f"/actions/v1/stored-actions/{action}/run", json={"data": data}, headers=BEARER
    )


def _get(api, run_id, action=ACTION):
    return api.request("GET", f"/actions/v1/stored-actions/{action}/runs/{run_id}", headers=BEARER)


def test_a_repeated_idempotency_id_returns_the_original_run(inproc):
    key = str(uuid.uuid4())
    first = _run(inproc, idempotency_id=key, inputs={"n": 1}).json["data"]["id"]
    again = _run(inproc, idempotency_id=key, inputs={"n": 2}).json["data"]["id"]
    other = _run(inproc, idempotency_id=str(uuid.uuid4())).json["data"]["id"]
    assert again == first != other
    assert _get(inproc, first).json["results"][0]["inputs"] == {"n": 1}
    assert inproc.stats()["runs"]["stored_action"] == 2


def test_an_idempotency_id_older_than_72_hours_starts_a_new_run(inproc, clock):
    key = str(uuid.uuid4())
    first = _run(inproc, idempotency_id=key).json["data"]["id"]
    clock.advance(71 * 3600)
    assert _run(inproc, idempotency_id=key).json["data"]["id"] == first
    clock.advance(2 * 3600)
    assert _run(inproc, idempotency_id=key).json["data"]["id"] != first


def test_results_are_gone_after_the_retention_period(inproc, clock):
    run_id = _run(inproc).json["data"]["id"]
    v2_id = inproc.request(
        "POST",
        "/v2/action-runs",
        headers=BEARER,
        json={"data": {"action": "a", "authentication": "auth", "inputs": {}}},
    ).json["data"]["id"]
    clock.advance(7 * 86400 - 60)
    assert _get(inproc, run_id).status == 200
    clock.advance(120)
    assert _get(inproc, run_id).status == 404
    gone = inproc.request("GET", f"/v2/action-runs/{v2_id}", headers=BEARER)
    assert (gone.status, gone.json["errors"][0]["code"]) == (400, "not_found")


def test_a_run_takes_between_run_seconds_and_run_seconds_max(inproc, clock):
    inproc.knobs(run_seconds=10, run_seconds_max=20)
    run_id = _run(inproc).json["data"]["id"]
    clock.advance(9.9)
    assert _get(inproc, run_id).status == 202
    clock.advance(10.2)
    assert _get(inproc, run_id).status == 200


def test_the_window_limit_holds_and_stats_report_each_window(inproc, clock):
    inproc.knobs(run_limit=3, window_seconds=300)
    clock.now = 1_800_000_000.0  # the start of a window
    assert [_run(inproc).status for _ in range(5)] == [202, 202, 202, 429, 429]
    refused = _run(inproc)
    assert refused.header("Retry-After") == "300"
    assert refused.header("X-RateLimit-Reset") == "1800000300"
    clock.advance(300)
    assert _run(inproc).status == 202

    run_stats = inproc.stats()["rate"]["run"]
    assert [w["admitted"] for w in run_stats["windows"]] == [3, 1]
    assert run_stats["max_per_window"] == 3
    assert run_stats["answered_429"] == 3
    assert inproc.stats()["answered_429"] == 3


def test_gets_and_posts_count_in_separate_buckets(inproc):
    inproc.knobs(run_limit=1, get_limit=2, window_seconds=10**7)
    run_id = _run(inproc).json["data"]["id"]
    assert [_get(inproc, run_id).status for _ in range(3)] == [200, 200, 429]
    assert _run(inproc).status == 429
    rate = inproc.stats()["rate"]
    assert (rate["get"]["max_per_window"], rate["run"]["max_per_window"]) == (2, 1)


def test_knobs_are_validated_and_all_or_nothing(inproc):
    for bad in (
        {"error_rate": 1.5},
        {"get_limit": -1},
        {"get_limit": 2.5},
        {"v2_callbacks": 1},
        {"run_seconds": True},
        {"window_seconds": 0},
        {"nonsense": 1},
        {"error_rate": 0.5, "callback_drop": "x"},
    ):
        answer = inproc.request("PATCH", "/_admin/knobs", json=bad)
        assert answer.status == 400, bad
        assert answer.json["errors"][0]["code"] == "invalid_knob"
    assert inproc.request("PATCH", "/_admin/knobs", data=b"[1]").status == 400
    unknown = inproc.request("PATCH", "/_admin/knobs", json={"nonsense": 1}).json["errors"][0]
    assert unknown["source"] == {"pointer": "/nonsense"}
    assert inproc.request("GET", "/_admin/knobs").json["error_rate"] == 0.0


def test_knobs_come_from_the_environment_and_reset_restores_them(tmp_path):
    app = create_sandbox_app(
        {
            "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}",
            "SANDBOX_ERROR_RATE": "1",
            "SANDBOX_RUN_SECONDS": "0",
            "SANDBOX_V2_CALLBACKS": "yes",
        }
    )
    try:
        api = InProcessApi(app)
        assert api.request("GET", "/_admin/knobs").json["v2_callbacks"] is True
        run_id = _run(api).json["data"]["id"]
        assert _get(api, run_id).json["status"] == "error"
        api.knobs(error_rate=0, get_limit=5)

        reset = api.request("POST", "/_admin/reset").json
        assert (reset["knobs"]["error_rate"], reset["knobs"]["get_limit"]) == (1.0, 600)
        assert _get(api, run_id).status == 404
        assert api.stats()["runs"] == {"stored_action": 0, "action_run": 0}
        # Only the GET made since the reset is counted.
        assert [w["admitted"] for w in api.stats()["rate"]["get"]["windows"]] == [1]
    finally:
        app.extensions["sandbox"].close()


def test_a_bad_knob_in_the_environment_names_the_variable(tmp_path):
    with pytest.raises(KnobError, match="SANDBOX_CALLBACK_DROP"):
        create_sandbox_app(
            {
                "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                "SANDBOX_CALLBACK_DROP": "often",
            }
        )


def test_init_app_serves_the_sandbox_under_the_relays_app(tmp_path):
    relay = Flask("relay")
    settings = Settings(sandbox_database_url=f"sqlite:///{tmp_path / 'relay-sandbox.db'}")
    sandbox = init_app(relay, settings, env={"SANDBOX_RUN_SECONDS": "0"})
    try:
        client = relay.test_client()
        answer = client.post(RUN_PATH, json={"data": {}}, headers=BEARER)
        assert answer.status_code == 404  # only under /sandbox
        answer = client.post("/sandbox" + RUN_PATH, json={"data": {}}, headers=BEARER)
        assert answer.status_code == 202
        assert (tmp_path / "relay-sandbox.db").exists()
    finally:
        sandbox.close()


def test_the_same_run_id_always_gets_the_same_outcome():
    from app.sandbox.knobs import defaults
    from app.sandbox.outcome import STORED_ACTION, plan_run

    knobs = {**defaults(), "error_rate": 0.5, "run_seconds_max": 5.0, "callback_duplicate": 0.5}
    run_ids = [str(uuid.UUID(int=n)) for n in range(40)]
    plans = [plan_run(STORED_ACTION, r, 0.0, knobs, callback_url="http://x/cb") for r in run_ids]
    again = [plan_run(STORED_ACTION, r, 0.0, knobs, callback_url="http://x/cb") for r in run_ids]
    assert plans == again
    assert {p.status for p in plans} == {"success", "error"}
    assert {len(p.callbacks) for p in plans} == {1, 2}
    assert all(0.5 <= p.done_at <= 5.0 for p in plans)
