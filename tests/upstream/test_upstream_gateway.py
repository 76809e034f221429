"""The gateway: budget before every call, upstream's rate word fed back, every call recorded."""

import time

import pytest
from sqlalchemy import select, text

from app.accounts.tokens import AccountTokens
from app.config.settings import Settings
from app.store.engine import read
from app.store.tables import upstream_calls
from app.upstream.budget import RateBudget
from app.upstream.gateway import UpstreamGateway
from app.upstream.outcomes import Accepted, Deferred, Processing, Result, Throttled

from .contract_examples import (
    RUN_ACCEPTED,
    RUN_ID,
    SA_GET,
    SA_ID,
    SA_RUN,
    TOKEN,
    V2_GET,
    V2_POST,
    V2_RESULT,
    respond,
)

UPSTREAM_ID = RUN_ID  # the run id upstream gave; "run-1" and such are relay run ids


@pytest.fixture
def budget(store_engine):
    return RateBudget(store_engine, {"get": 600, "run": 200}, 300.0)


@pytest.fixture
def gateway(client, budget, store_engine):
    tokens = AccountTokens(store_engine, Settings(zapier_access_token=TOKEN))
    return UpstreamGateway(client, budget, store_engine, tokens)


def _recorded_calls(engine):
    with read(engine) as conn:
        return [row._asdict() for row in conn.execute(select(upstream_calls))]


def test_exhausted_budget_defers_without_calling_upstream(gateway, budget, httpserver):
    respond(httpserver, "POST", SA_RUN, 202, RUN_ACCEPTED)
    while budget.try_acquire("run") == 0.0:
        pass

    outcome = gateway.run_stored_action("run-1", SA_ID, {"inputs": {}}, account="default")

    assert isinstance(outcome, Deferred)
    assert 290 < outcome.wait <= 300  # the window opened while the loop spent it
    assert httpserver.log == []


def test_each_call_is_recorded(gateway, store_engine, httpserver):
    respond(httpserver, "POST", SA_RUN, 202, RUN_ACCEPTED)
    before = time.time()

    outcome = gateway.run_stored_action("run-1", SA_ID, {"inputs": {}}, account="default")

    assert outcome == Accepted(UPSTREAM_ID, status=202, latency_ms=outcome.latency_ms)
    [call] = _recorded_calls(store_engine)
    assert call["run_id"] == "run-1"
    assert (call["operation"], call["outcome"], call["status"]) == (
        "run_stored_action",
        "accepted",
        202,
    )
    assert before <= call["at"] <= time.time()
    assert call["latency_ms"] == pytest.approx(outcome.latency_ms)


def test_gets_draw_from_the_get_bucket(gateway, budget, httpserver):
    respond(httpserver, "GET", SA_GET, 202)
    respond(httpserver, "GET", V2_GET, 200, V2_RESULT)

    assert isinstance(
        gateway.get_stored_action_run("run-1", SA_ID, UPSTREAM_ID, account="default"), Processing
    )
    assert isinstance(gateway.get_action_run("run-2", UPSTREAM_ID, account="default"), Result)

    assert budget.snapshot()["get"]["used"] == 2
    assert budget.snapshot()["run"]["used"] == 0


def test_upstream_remaining_zero_defers_the_next_call(gateway, httpserver):
    headers = {"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0"}
    headers["X-RateLimit-Reset"] = str(int(time.time()) + 100)
    respond(httpserver, "POST", V2_POST, 200, RUN_ACCEPTED, headers)

    assert isinstance(
        gateway.create_action_run("run-1", {"action": "a"}, account="default"), Accepted
    )
    outcome = gateway.create_action_run("run-2", {"action": "a"}, account="default")

    assert isinstance(outcome, Deferred)
    assert 95 <= outcome.wait <= 100
    assert len(httpserver.log) == 1


def test_throttled_blocks_the_bucket_for_retry_after(gateway, store_engine, httpserver):
    respond(httpserver, "GET", V2_GET, 429, {"errors": []}, {"Retry-After": "40"})

    assert isinstance(gateway.get_action_run("run-1", UPSTREAM_ID, account="default"), Throttled)
    outcome = gateway.get_action_run("run-1", UPSTREAM_ID, account="default")

    assert isinstance(outcome, Deferred)
    assert 39 <= outcome.wait <= 40
    assert len(httpserver.log) == 1
    assert [c["outcome"] for c in _recorded_calls(store_engine)] == ["throttled"]


def test_unavailable_with_retry_after_blocks_too(gateway, httpserver):
    respond(httpserver, "GET", SA_GET, 503, {"errors": []}, {"Retry-After": "15"})

    gateway.get_stored_action_run("run-1", SA_ID, UPSTREAM_ID, account="default")

    assert (
        14
        <= gateway.get_stored_action_run("run-1", SA_ID, UPSTREAM_ID, account="default").wait
        <= 15
    )


def test_answer_survives_a_failed_record(gateway, store_engine, httpserver, caplog):
    respond(httpserver, "POST", SA_RUN, 202, RUN_ACCEPTED)
    with store_engine.begin() as conn:
        conn.execute(text("DROP TABLE upstream_calls"))

    outcome = gateway.run_stored_action("run-1", SA_ID, {}, account="default")

    assert isinstance(outcome, Accepted)
    assert "could not record upstream call run_stored_action" in caplog.text
