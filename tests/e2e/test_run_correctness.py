"""Issue 11, findings 4 and 5, through real processes: gunicorn, the worker and the sandbox."""

from __future__ import annotations

import time

import pytest
import requests

from tests.conftest import API_KEY
from tests.support.processes import wait_for

pytestmark = pytest.mark.e2e


def _events(receiver, run_id: str) -> list[dict]:
    return [r["body"] for r in receiver.received if r["body"]["data"]["run_id"] == run_id]


def _detail(relay, run_id: str) -> dict:
    answer = requests.get(
        f"{relay.base}/v1/runs/{run_id}",
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["data"]


def _handled_polls(relay, run_id: str, at_least: int = 0) -> list[dict]:
    """The run's polls whose answer the worker has acted on ([] while fewer than `at_least`).
    A call is logged as it returns, with the kind of answer (`result`); the worker's verdict
    (`run_mismatch`) replaces it in a later transaction, the one that counts it in
    `poll_count`. The newest poll may show the former: only the first `poll_count` are final."""
    detail = _detail(relay, run_id)
    polls = [e["detail"] for e in detail["timeline"] if e["event"] == "get_stored_action_run"]
    handled = polls[: detail["poll_count"]]
    return handled if len(handled) >= at_least else []


def _warm_up(relay, receiver) -> None:
    """One run forwarded: the worker is up and polling before the timed runs start."""
    run_id = relay.trigger()
    assert receiver.wait_for(lambda got: any(_is(r, run_id) for r in got), 30)


def _is(record: dict, run_id: str) -> bool:
    return record["body"]["data"]["run_id"] == run_id


def test_a_poll_answer_naming_another_run_is_refused_and_polled_again(
    relay_factory, sandbox, receiver
):
    relay = relay_factory()
    sandbox.knobs(run_seconds=0.1)
    _warm_up(relay, receiver)
    sandbox.knobs(callback_drop=1.0, poll_foreign_id=1.0)
    run_id = relay.trigger()
    # A few polls, each answered with another run's id.
    polls = wait_for(lambda: _handled_polls(relay, run_id, at_least=3), 30)
    assert all(p["outcome"] == "run_mismatch" for p in polls), polls
    detail = _detail(relay, run_id)
    assert detail["state"] == "submitted" and detail["result"] is None
    assert _events(receiver, run_id) == []

    sandbox.knobs(poll_foreign_id=0.0)
    assert receiver.wait_for(lambda got: any(_is(r, run_id) for r in got), 20)
    time.sleep(1)  # nothing more comes
    events = _events(receiver, run_id)
    assert [e["type"] for e in events] == ["run.succeeded"]
    assert events[0]["data"]["source"] == "poll"
    assert events[0]["data"]["upstream_run_id"] == detail["upstream_run_id"]
    assert receiver.rejected == []


def test_a_result_ready_just_before_max_age_is_fetched_by_a_last_poll(
    relay_factory, sandbox, receiver
):
    # Polls each second; ready 3 s after submission, RUN_MAX_AGE_SECONDS 4 s: the result is
    # fetched by a poll before the max age or by the last one after it, never expired. The
    # second of slack absorbs a slow submission on a loaded machine.
    relay = relay_factory(RUN_MAX_AGE_SECONDS="4")
    sandbox.knobs(run_seconds=0.1)
    _warm_up(relay, receiver)
    sandbox.knobs(callback_drop=1.0, run_seconds=3.0)
    run_id = relay.trigger()
    assert receiver.wait_for(lambda got: any(_is(r, run_id) for r in got), 20)
    events = _events(receiver, run_id)
    assert [e["type"] for e in events] == ["run.succeeded"], events
    assert events[0]["data"]["source"] == "poll"
    assert _detail(relay, run_id)["poll_count"] >= 2


def test_a_callback_after_expiry_is_forwarded_once_as_a_late_result(
    relay_factory, sandbox, receiver
):
    # Expired after the poll at 2 s (still running); the callback comes at 6 s, twice.
    relay = relay_factory(RUN_MAX_AGE_SECONDS="2")
    sandbox.knobs(run_seconds=0.1)
    _warm_up(relay, receiver)
    sandbox.knobs(run_seconds=5.0, callback_delay_seconds=1.0, callback_duplicate=1.0)
    run_id = relay.trigger()
    assert receiver.wait_for(lambda got: len([r for r in got if _is(r, run_id)]) >= 2, 20)
    time.sleep(1.5)  # the duplicate callback forwards nothing more
    events = _events(receiver, run_id)
    assert [e["type"] for e in events] == ["run.expired", "run.late_result"], events
    late = events[1]["data"]
    assert late["late"] is True and late["source"] == "callback"
    assert late["expired_at"] == events[0]["timestamp"]
    assert late["result"]["status"] == "success" and late["result"]["id"] == run_id
    detail = _detail(relay, run_id)
    assert detail["state"] == "expired" and detail["result"]["status"] == "success"
    verdicts = [e["detail"]["verdict"] for e in detail["timeline"] if e["event"] == "callback"]
    assert verdicts == ["late", "duplicate"]
    assert receiver.rejected == []
