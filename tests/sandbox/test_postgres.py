"""The sandbox on PostgreSQL: the same runs, keys, windows, callbacks and zap runs as on SQLite."""

from __future__ import annotations

import uuid

import pytest

from app.sandbox import create_sandbox_app
from tests.sandbox.conftest import BEARER, FakeClock, InProcessApi
from tests.sandbox.contract import check_answer

ACTION = str(uuid.uuid4())


@pytest.fixture
def postgres_sandbox(postgres_url):
    """A sandbox in a private schema of the real PostgreSQL."""
    app = create_sandbox_app({"SANDBOX_DATABASE_URL": postgres_url, "SANDBOX_RUN_SECONDS": "0"})
    try:
        yield InProcessApi(app)
    finally:
        app.extensions["sandbox"].close()


def test_runs_idempotency_limits_and_callbacks_on_postgres(postgres_sandbox, receiver):
    api = postgres_sandbox
    api.knobs(run_limit=2, window_seconds=10**7)
    body = {"data": {"callback_url": receiver.url, "idempotency_id": str(uuid.uuid4())}}
    path = f"/actions/v1/stored-actions/{ACTION}/run"
    first = api.request("POST", path, json=body, headers=BEARER)
    again = api.request("POST", path, json=body, headers=BEARER)
    assert first.json["data"]["id"] == again.json["data"]["id"]
    assert api.request("POST", path, json=body, headers=BEARER).status == 429

    run_id = first.json["data"]["id"]
    [callback] = receiver.expect_count(1)
    result = api.request(
        "GET", f"/actions/v1/stored-actions/{ACTION}/runs/{run_id}", headers=BEARER
    )
    assert callback["body"] == result.json and result.json["status"] == "success"
    assert api.stats()["rate"]["run"]["max_per_window"] == 2


@pytest.mark.usefixtures("contract_dir")
def test_zap_runs_filters_paging_and_the_knob_on_postgres(postgres_sandbox):
    api = postgres_sandbox
    api.sandbox.clock = clock = FakeClock()
    made = api.request(
        "POST",
        "/_admin/zap-runs",
        json=[{"count": 3, "zap_title": "Crème brûlée", "status": "error"}, {"count": 2}],
    ).json["data"]
    api.knobs(zap_runs_per_minute=60, zap_run_seconds=0)
    clock.advance(2.5)

    def listed(**params) -> dict:
        query = "&".join(f"{name}={value}" for name, value in params.items())
        answer = api.request("GET", f"/v2/zap-runs?{query}", headers=BEARER)
        check_answer("get-zap-runs", answer)
        return answer.json[0]

    assert listed()["meta"]["count"] == 7  # five made, two from the knob
    assert listed(search="CRÈME")["meta"]["count"] == 3
    assert listed(statuses="error")["meta"]["count"] == 3
    seen = listed(limit=4)["data"] + listed(limit=4, offset=4)["data"]
    assert len({run["id"] for run in seen}) == 7
    assert {run["id"] for run in made} <= {run["id"] for run in seen}
