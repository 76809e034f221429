"""The Procfile's lines with no ZAPIER_ACCESS_TOKEN: sandbox mode, end to end."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import STORED_ACTION
from tests.sandbox.contract import Answer, check_answer, contract_available
from tests.support.processes import wait_for
from tests.support.stack import Relay

pytestmark = pytest.mark.e2e


@pytest.fixture
def sandbox_relay(tmp_path):
    quick = {"CALLBACK_GRACE_SECONDS": 1, "POLL_MAX_INTERVAL_SECONDS": 1}
    relay = Relay(tmp_path, {"ZAPIER_ACCESS_TOKEN": "", **quick})
    try:
        relay.start()  # the Procfile's release, web and worker lines
        yield relay.base, relay.web
    finally:
        relay.stop()


def _answer(response) -> Answer:
    return Answer(response.status_code, dict(response.headers), response.content)


def test_web_serves_health_readiness_and_the_sandbox(sandbox_relay):
    if not contract_available():
        pytest.skip("shared/contract not found beside the repo")
    base, web = sandbox_relay
    assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
    assert requests.get(f"{base}/readyz", timeout=5).json()["mode"] == "sandbox"
    upstream = f"{base}/sandbox/actions/v1/stored-actions/{STORED_ACTION}"
    auth = {"Authorization": "Bearer anything"}
    created = requests.post(
        f"{upstream}/run", json={"data": {"inputs": {}}}, headers=auth, timeout=5
    )
    check_answer("createStoredActionRun", _answer(created))
    run_id = created.json()["data"]["id"]

    def finished():
        got = requests.get(f"{upstream}/runs/{run_id}", headers=auth, timeout=5)
        return got if got.status_code == 200 else None

    result = wait_for(finished, 20)
    check_answer("getStoredActionRun", _answer(result))
    assert result.json()["id"] == run_id
    assert "SANDBOX MODE" in web.output()


def test_sandbox_mode_relays_a_run_to_a_listener(sandbox_relay, receiver):
    base, _web = sandbox_relay
    response = requests.post(
        f"{base}/actions/v1/stored-actions/{STORED_ACTION}/run",
        json={"data": {"inputs": {"message": "hello"}, "callback_url": receiver.url}},
        timeout=10,
    )
    assert response.status_code == 202  # no RELAY_API_KEYS in sandbox mode: the API is open
    assert receiver.wait_for(lambda got: len(got) == 1, 30)
    event = receiver.received[0]["body"]
    assert event["type"] == "run.succeeded" and event["data"]["source"] == "callback"
    assert event["data"]["result"]["results"][0]["inputs"] == {"message": "hello"}
