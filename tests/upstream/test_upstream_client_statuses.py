"""The upstream client on a real local server: each contract status and its headers mapped."""

import re
import time
from email.utils import formatdate

import pytest

from app.upstream.outcomes import (
    Accepted,
    NotFound,
    Processing,
    RateInfo,
    Refused,
    Result,
    Throttled,
    Unavailable,
)

from .contract_examples import (
    RUN_ACCEPTED,
    RUN_ID,
    SA_GET,
    SA_ID,
    SA_RUN,
    TOKEN,
    V1_RESULT,
    V2_GET,
    V2_POST,
    V2_RESULT,
    error_body,
    respond,
)

OPERATIONS = {
    "run_stored_action": (
        "POST",
        SA_RUN,
        lambda c: c.run_stored_action(SA_ID, {"inputs": {}}, token=TOKEN),
    ),
    "get_stored_action_run": (
        "GET",
        SA_GET,
        lambda c: c.get_stored_action_run(SA_ID, RUN_ID, token=TOKEN),
    ),
    "create_action_run": (
        "POST",
        V2_POST,
        lambda c: c.create_action_run({"action": "a"}, token=TOKEN),
    ),
    "get_action_run": ("GET", V2_GET, lambda c: c.get_action_run(RUN_ID, token=TOKEN)),
}

# (operation, status, body, outcome type) for the statuses each contract lists.
CONTRACT_CASES = [
    ("run_stored_action", 202, RUN_ACCEPTED, Accepted),
    *[("run_stored_action", s, error_body(s, "x"), Refused) for s in (400, 402, 403)],
    ("get_stored_action_run", 200, V1_RESULT, Result),
    ("get_stored_action_run", 202, None, Processing),
    *[("get_stored_action_run", s, error_body(s, "x"), Refused) for s in (400, 403)],
    ("get_stored_action_run", 404, error_body(404, "not_found"), NotFound),
    ("create_action_run", 200, RUN_ACCEPTED, Accepted),
    *[
        ("create_action_run", s, error_body(s, "parse_error"), Refused)
        for s in (400, 401, 403, 409)
    ],
    ("get_action_run", 200, V2_RESULT, Result),
    # The v2 contract has no 404: the sandbox answers a missing run with 400 "not_found".
    ("get_action_run", 400, error_body(400, "not_found"), NotFound),
    *[("get_action_run", s, error_body(s, "parse_error"), Refused) for s in (400, 401, 403, 409)],
]
for _operation in OPERATIONS:
    CONTRACT_CASES += [
        (_operation, 429, error_body(429, "too_many_requests"), Throttled),
        *[(_operation, s, error_body(s, "x"), Unavailable) for s in (500, 502, 503, 504)],
    ]


@pytest.mark.parametrize(("operation", "status", "body", "expected"), CONTRACT_CASES)
def test_contract_status_maps_to_outcome(client, httpserver, operation, status, body, expected):
    method, path, call = OPERATIONS[operation]
    respond(httpserver, method, path, status, body, {"Retry-After": "7"})

    outcome = call(client)

    assert type(outcome) is expected
    assert outcome.status == status
    assert outcome.latency_ms > 0
    assert len(httpserver.log) == 1
    if expected is Accepted:
        assert outcome.upstream_id == RUN_ID
    if expected in (Refused, NotFound):
        assert outcome.errors == body["errors"]  # as upstream sent them
    if expected in (Throttled, Unavailable):
        assert outcome.retry_after == 7.0


def test_post_sends_bearer_token_and_data_envelope(client, httpserver):
    respond(httpserver, "POST", SA_RUN, 202, RUN_ACCEPTED)

    client.run_stored_action(
        SA_ID, {"inputs": {"message": "hi"}, "idempotency_id": RUN_ID}, token=TOKEN
    )

    request, _ = httpserver.log[0]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.get_json() == {"data": {"inputs": {"message": "hi"}, "idempotency_id": RUN_ID}}


def test_ids_cannot_escape_their_path_segment(client, httpserver):
    httpserver.expect_request(re.compile("/.*")).respond_with_data("", status=202)

    assert isinstance(client.get_action_run("a/../b?x", token=TOKEN), Processing)
    request, _ = httpserver.log[0]
    assert request.environ["RAW_URI"] == "/v2/action-runs/a%2F..%2Fb%3Fx"


def test_stored_action_post_404_is_a_refusal_not_a_missing_run(client, httpserver):
    respond(httpserver, "POST", SA_RUN, 404, error_body(404, "not_found"))

    assert isinstance(client.run_stored_action(SA_ID, {}, token=TOKEN), Refused)


def test_rate_headers_are_on_every_outcome(client, httpserver):
    reset = int(time.time()) + 120
    headers = {
        "X-RateLimit-Limit": "600",
        "X-RateLimit-Remaining": "12",
        "X-RateLimit-Reset": str(reset),
    }
    respond(httpserver, "GET", V2_GET, 503, error_body(503, "x"), headers)

    outcome = client.get_action_run(RUN_ID, token=TOKEN)

    assert outcome.rate == RateInfo(limit=600, remaining=12, reset_at=reset)
    assert outcome.retry_after is None  # a 5xx without Retry-After: the caller's back-off


def test_retry_after_as_http_date(client, httpserver):
    when = formatdate(time.time() + 120, usegmt=True)
    body = error_body(429, "too_many_requests")
    respond(httpserver, "GET", SA_GET, 429, body, {"Retry-After": when})

    outcome = client.get_stored_action_run(SA_ID, RUN_ID, token=TOKEN)

    assert isinstance(outcome, Throttled)
    assert 115 <= outcome.retry_after <= 120


def test_throttled_without_retry_after_waits_until_reset(client, httpserver):
    reset = time.time() + 30
    respond(httpserver, "POST", SA_RUN, 429, None, {"X-RateLimit-Reset": f"{reset:.3f}"})

    outcome = client.run_stored_action(SA_ID, {}, token=TOKEN)

    assert isinstance(outcome, Throttled)
    assert 25 <= outcome.retry_after <= 30


def test_throttled_without_any_hint_waits_a_minute(client, httpserver):
    respond(httpserver, "POST", V2_POST, 429, None)

    assert client.create_action_run({}, token=TOKEN).retry_after == 60.0
