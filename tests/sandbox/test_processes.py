"""Two standalone sandbox processes on one database behave as one upstream."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.sandbox.conftest import BEARER, SocketApi
from tests.support.processes import wait_for
from tests.support.stack import SandboxServer

pytestmark = pytest.mark.e2e
ACTION = str(uuid.uuid4())


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("pair")
    database_url = f"sqlite:///{workdir / 'shared.db'}"
    servers = []
    try:
        for n in (1, 2):
            servers.append(SandboxServer(workdir, database_url, name=f"server{n}"))
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def apis(pair):
    with requests.Session() as one, requests.Session() as two:
        first, second = SocketApi(pair[0].base, one), SocketApi(pair[1].base, two)
        assert first.request("POST", "/_admin/reset").status == 200
        yield first, second


def test_a_run_created_on_one_process_is_read_on_the_other(apis):
    first, second = apis
    second.knobs(run_seconds=0)  # a knob changed on one process applies on both
    assert first.request("GET", "/_admin/knobs").json["run_seconds"] == 0

    posted = first.request(
        "POST",
        f"/actions/v1/stored-actions/{ACTION}/run",
        json={"data": {"inputs": {"x": 1}}},
        headers=BEARER,
    )
    run_id = posted.json["data"]["id"]
    answer = second.request(
        "GET", f"/actions/v1/stored-actions/{ACTION}/runs/{run_id}", headers=BEARER
    )
    assert answer.status == 200
    assert (answer.json["id"], answer.json["results"][0]["inputs"]) == (run_id, {"x": 1})


def test_both_processes_serve_the_same_signing_key(apis):
    keys = [api.request("GET", "/.well-known/jwks.json").json for api in apis]
    assert keys[0] == keys[1] and len(keys[0]["keys"]) == 1


def test_the_window_limit_holds_across_processes_under_concurrency(apis):
    first, second = apis
    # A window far longer than the test, so no boundary can split the count.
    first.knobs(run_limit=10, run_seconds=0, window_seconds=10**7)

    def post(api):
        url = f"{api.base}/actions/v1/stored-actions/{ACTION}/run"
        return requests.post(url, json={"data": {}}, headers=BEARER, timeout=10).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(post, [first, second] * 15))
    assert statuses.count(202) == 10 and statuses.count(429) == 20
    run_stats = second.stats()["rate"]["run"]
    assert run_stats["max_per_window"] == 10
    assert run_stats["answered_429"] == 20


def test_knob_made_zap_runs_are_made_once_whichever_process_is_asked(apis):
    first, second = apis
    first.knobs(zap_runs_per_minute=1200, zap_run_seconds=0)  # one run every 50 ms

    def list_runs(api):
        url = f"{api.base}/v2/zap-runs?limit=100"
        return requests.get(url, headers=BEARER, timeout=10).json()[0]

    def enough() -> dict | None:
        with ThreadPoolExecutor(8) as pool:
            pages = list(pool.map(list_runs, [first, second] * 4))
        return pages[-1] if pages[-1]["meta"]["count"] >= 20 else None

    made = wait_for(enough, 20)["data"]
    starts = [run["start_time"] for run in made]
    assert len(set(starts)) == len(starts) == len({run["id"] for run in made})
    assert first.stats()["zap_runs"]["list_calls"] >= 8
