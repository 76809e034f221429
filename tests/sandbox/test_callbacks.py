"""Callbacks: signed, sent from the background, retried like Zapier, and the fault knobs on them."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from tests.sandbox.conftest import BEARER
from tests.support.receiver import Receiver

ACTION = str(uuid.uuid4())


def _run(api, callback_url: str, **data) -> str:
    body = {"data": {"callback_url": callback_url, "inputs": {"n": 1}, **data}}
    answer = api.request(
        "POST", f"/actions/v1/stored-actions/{ACTION}/run", json=body, headers=BEARER
    )
    assert answer.status == 202, answer.body
    return answer.json["data"]["id"]


def _result(api, run_id: str) -> dict:
    return api.request(
        "GET", f"/actions/v1/stored-actions/{ACTION}/runs/{run_id}", headers=BEARER
    ).json


def _wait_for_stats(api, predicate, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        stats = api.stats()
        if predicate(stats["callbacks"]):
            return stats
        assert time.monotonic() < deadline, stats
        time.sleep(0.02)


def test_the_callback_is_the_get_answer_signed_with_the_served_key(inproc, receiver):
    run_id = _run(inproc, receiver.url)
    [callback] = receiver.expect_count(1)

    assert callback["body"] == _result(inproc, run_id)
    assert callback["body"]["status"] == "success"
    keys = jwt.PyJWKSet.from_dict(inproc.request("GET", "/.well-known/jwks.json").json)
    kid = jwt.get_unverified_header(callback["signature"])["kid"]
    [key] = [k for k in keys.keys if k.key_id == kid]
    claims = jwt.decode(callback["signature"], key.key, algorithms=["RS256"])
    assert claims["run_id"] == run_id
    assert claims["exp"] - claims["iat"] == 300
    assert abs(claims["iat"] - time.time()) < 60


def test_the_callback_is_sent_after_the_post_was_answered(inproc, receiver):
    inproc.knobs(run_seconds=0.3)
    started = time.monotonic()
    _run(inproc, receiver.url)
    assert time.monotonic() - started < 0.3  # the POST never waits for the run
    assert receiver.received == []
    receiver.expect_count(1)
    assert time.monotonic() - started >= 0.3


def test_a_dropped_callback_never_arrives(inproc, receiver):
    inproc.knobs(callback_drop=1)
    _run(inproc, receiver.url_for("/dropped"))
    inproc.knobs(callback_drop=0)
    _run(inproc, receiver.url_for("/kept"))
    # Callbacks leave in due order, so once the later one is in, the dropped one had its turn.
    receiver.expect_count(1)
    assert receiver.for_path("/dropped") == []
    assert inproc.stats()["callbacks"]["dropped"] == 1


def test_a_duplicated_callback_arrives_twice(inproc, receiver):
    inproc.knobs(callback_duplicate=1)
    _run(inproc, receiver.url)
    first, second = receiver.expect_count(2)
    assert first["body"] == second["body"] and first["body"]["status"] == "success"
    assert inproc.stats()["callbacks"]["duplicated"] == 1


def test_waiting_first_sends_waiting_then_the_result(inproc, receiver):
    inproc.knobs(callback_waiting_first=1, run_seconds=0.2)
    run_id = _run(inproc, receiver.url)
    first, second = receiver.expect_count(2)
    assert (first["body"]["status"], second["body"]["status"]) == ("waiting", "success")
    assert first["body"]["id"] == second["body"]["id"] == run_id


def test_out_of_order_sends_the_result_then_a_stale_waiting(inproc, receiver):
    inproc.knobs(callback_out_of_order=1, callback_waiting_first=1)
    _run(inproc, receiver.url)
    first, second = receiver.expect_count(2)
    assert (first["body"]["status"], second["body"]["status"]) == ("success", "waiting")


def test_callback_delay_holds_the_callback_back(inproc, receiver):
    inproc.knobs(callback_delay_seconds=0.3)
    started = time.monotonic()
    _run(inproc, receiver.url)
    receiver.expect_count(1)
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(("status", "attempts"), [(500, 3), (503, 3), (400, 1), (404, 1)])
def test_retries_only_on_5xx_and_at_most_three_times(inproc, status, attempts):
    failing = Receiver(status=status).start()
    try:
        _run(inproc, failing.url)
        stats = _wait_for_stats(inproc, lambda c: c["failed"] == 1)
        assert len(failing.received) == attempts
        assert stats["callbacks"]["failed_attempts"] == attempts
    finally:
        failing.close()


def test_a_refused_connection_is_retried_three_times(inproc):
    unreachable = Receiver().start()
    url = unreachable.url
    unreachable.close()
    _run(inproc, url)
    stats = _wait_for_stats(inproc, lambda c: c["failed"] == 1)
    assert stats["callbacks"]["attempts"] == 3


def test_v2_callbacks_carry_the_v2_get_answer_when_the_knob_is_on(inproc, receiver):
    inproc.knobs(v2_callbacks=True)
    bad = {"data": {"action": "a", "authentication": None, "inputs": {}, "callback_url": "nope"}}
    refused = inproc.request("POST", "/v2/action-runs", json=bad, headers=BEARER)
    assert refused.status == 400
    assert refused.json["errors"][0]["source"] == {"pointer": "/data/callback_url"}
    body = {
        "data": {
            "action": "a",
            "authentication": None,
            "inputs": {},
            "callback_url": receiver.url,
        }
    }
    run_id = inproc.request("POST", "/v2/action-runs", json=body, headers=BEARER).json["data"]["id"]
    [callback] = receiver.expect_count(1)
    answer = inproc.request("GET", f"/v2/action-runs/{run_id}", headers=BEARER)
    assert callback["body"] == answer.json
    assert callback["body"]["data"]["status"] == "success"
    claims = jwt.decode(callback["signature"], options={"verify_signature": False})
    assert claims["run_id"] == run_id


def test_each_callback_is_sent_once_by_two_dispatchers_sharing_the_database(tmp_path, receiver):
    from app.sandbox import create_sandbox_app

    env = {
        "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}",
        "SANDBOX_RUN_SECONDS": "0",
    }
    apps = [create_sandbox_app(env), create_sandbox_app(env)]
    try:
        from tests.sandbox.conftest import InProcessApi

        first, second = (InProcessApi(app) for app in apps)
        second.request("GET", "/_admin/knobs")  # both processes' dispatchers are running
        second.sandbox.ensure_started()
        run_ids = {_run(first, receiver.url) for _ in range(40)}
        receiver.expect_count(40)
        _wait_for_stats(first, lambda c: c["sent"] == 40)
        assert sorted(r["body"]["id"] for r in receiver.received) == sorted(run_ids)
    finally:
        for app in apps:
            app.extensions["sandbox"].close()


@pytest.mark.e2e
def test_a_standalone_sandbox_signs_with_the_key_it_serves(over_socket, receiver):
    run_id = _run(over_socket, receiver.url)
    [callback] = receiver.expect_count(1)
    client = jwt.PyJWKClient(f"{over_socket.base}/.well-known/jwks.json", cache_keys=False)
    key = client.get_signing_key_from_jwt(callback["signature"])
    claims = jwt.decode(callback["signature"], key.key, algorithms=["RS256"])
    assert claims["run_id"] == run_id
    assert callback["body"] == _result(over_socket, run_id)
