"""The zap_runs_per_minute knob: new zap runs appear as time passes, then change status."""

from __future__ import annotations

import datetime as dt
import itertools
from urllib.parse import urlencode

import pytest

from app.sandbox import create_sandbox_app
from tests.sandbox.conftest import BEARER, FakeClock, InProcessApi
from tests.sandbox.contract import ZAP_RUNS, check_answer, check_component
from tests.support.processes import wait_for

pytestmark = pytest.mark.usefixtures("contract_dir")
SECOND = dt.timedelta(seconds=1)


def runs(api, **params) -> list[dict]:
    query = urlencode({"limit": 100, **params})
    answer = api.request("GET", f"/v2/zap-runs?{query}", headers=BEARER)
    check_answer("get-zap-runs", answer)
    assert answer.status == 200, answer.body
    return answer.json[0]["data"]


def started(run: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(run["start_time"])


def micro_after(text: str) -> str:
    later = dt.datetime.fromisoformat(text) + dt.timedelta(microseconds=1)
    return later.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_runs_start_at_the_knobs_pace_and_finish_after_zap_run_seconds(inproc, clock):
    assert runs(inproc) == []
    inproc.knobs(zap_runs_per_minute=6, zap_run_seconds=1)  # one run every 10 s
    clock.advance(9.9)
    assert runs(inproc) == []
    clock.advance(50.5)  # 60.4 s after the change
    made = runs(inproc)
    assert len(made) == 6
    gaps = {started(a) - started(b) for a, b in itertools.pairwise(made)}
    assert gaps == {10 * SECOND}
    newest, *older = made
    assert (newest["status"], newest["end_time"], newest["data_out"]) == ("pending", None, "")
    for run in older:
        assert run["status"] == "success" and run["data_out"] == {"sandbox": True, "ok": True}
        assert dt.datetime.fromisoformat(run["end_time"]) - started(run) == SECOND

    clock.advance(1)
    [finished] = [run for run in runs(inproc) if run["id"] == newest["id"]]
    assert finished["status"] == "success"
    assert dt.datetime.fromisoformat(finished["end_time"]) - started(finished) == SECOND
    assert {run["zap_id"] for run in runs(inproc, zap_id=finished["zap_id"])} == {
        finished["zap_id"]
    }


def test_error_rate_fails_every_run_and_zero_stops_new_ones(inproc, clock):
    inproc.knobs(zap_runs_per_minute=60, zap_run_error_rate=1, zap_run_seconds=0)
    clock.advance(3.5)
    made = runs(inproc)
    assert [run["status"] for run in made] == ["error"] * 3
    assert all("error" in run["data_out"] for run in made)
    inproc.knobs(zap_runs_per_minute=0)
    clock.advance(60)
    assert len(runs(inproc)) == 3
    assert inproc.stats()["zap_runs"]["by_status"] == {"error": 3}


def test_a_long_quiet_spell_makes_at_most_1000_runs_at_once(inproc, clock):
    inproc.knobs(zap_runs_per_minute=1, zap_run_seconds=0)
    clock.advance(2 * 86400)
    answer = inproc.request("GET", "/v2/zap-runs?limit=1", headers=BEARER)
    assert answer.json[0]["meta"]["count"] == 1000
    assert inproc.stats()["zap_runs"]["stored"] == 1000


def test_runs_older_than_30_days_need_a_from_date(inproc, clock):
    inproc.request("POST", "/_admin/zap-runs", json={"count": 2})
    clock.advance(31 * 86400)
    assert runs(inproc) == []
    assert len(runs(inproc, from_date="2000-01-01T00:00:00Z")) == 2


def test_the_knob_is_validated_and_read_from_the_environment(tmp_path):
    app = create_sandbox_app(
        {
            "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'env.db'}",
            "SANDBOX_ZAP_RUNS_PER_MINUTE": "30",
            "SANDBOX_ZAP_RUN_SECONDS": "0",
        }
    )
    try:
        api = InProcessApi(app)
        api.sandbox.clock = clock = FakeClock()
        assert runs(api) == []  # the first look starts the count
        clock.advance(4.5)
        assert [run["status"] for run in runs(api)] == ["success", "success"]
        for bad in (
            {"zap_runs_per_minute": -1},
            {"zap_run_error_rate": 2},
            {"zap_run_seconds": "x"},
        ):
            answer = api.request("PATCH", "/_admin/knobs", json=bad)
            assert (answer.status, answer.json["errors"][0]["code"]) == (400, "invalid_knob")
    finally:
        app.extensions["sandbox"].close()


def test_a_watcher_over_a_socket_sees_new_runs_and_their_status_change(over_socket):
    over_socket.knobs(zap_runs_per_minute=600, zap_run_seconds=0.5)  # one run every 0.1 s
    pending = wait_for(lambda: [r for r in runs(over_socket) if r["status"] == "pending"], 10)
    watched = pending[-1]
    # Just the watched run's start, however many runs start after it meanwhile.
    moment = {"from_date": watched["start_time"], "to_date": micro_after(watched["start_time"])}

    def watched_now() -> dict | None:
        [run] = [r for r in runs(over_socket, **moment) if r["id"] == watched["id"]]
        return run if run["status"] != "pending" else None

    done = wait_for(watched_now, 10)
    check_component(ZAP_RUNS, "ZapRun", done)
    assert done["status"] == "success" and done["end_time"] is not None
    assert over_socket.stats()["zap_runs"]["stored"] >= 2
