"""Tokens as the sandbox (upstream) sees them: each its own windows and limit, a JWT's
rate_limit claim honoured, a revoked token answered 401, and stats per token."""

from __future__ import annotations

import uuid

import pytest

from app.accounts.crypto import fingerprint
from tests.support.accounts import claims_token

ACTION = str(uuid.uuid4())
PLAIN = "plain-token-0001"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def run(api, token: str):
    path = f"/actions/v1/stored-actions/{ACTION}/run"
    return api.request("POST", path, json={"data": {}}, headers=bearer(token))


def get(api, token: str):
    path = f"/actions/v1/stored-actions/{ACTION}/runs/{uuid.uuid4()}"
    return api.request("GET", path, headers=bearer(token))


def test_each_token_has_its_own_windows(inproc, clock):
    inproc.knobs(run_limit=2, window_seconds=300)
    clock.now = 1_800_000_000.0
    assert [run(inproc, "token-a-0001").status for _ in range(3)] == [202, 202, 429]
    assert [run(inproc, "token-b-0001").status for _ in range(3)] == [202, 202, 429]

    stats = inproc.stats()
    assert stats["rate"]["run"]["max_per_window"] == 4  # all tokens together
    for token in ("token-a-0001", "token-b-0001"):
        mine = stats["tokens"][fingerprint(token)]["run"]
        assert (mine["max_per_window"], mine["answered_429"]) == (2, 1)
        assert mine["windows"][0]["limit"] == 2


@pytest.mark.parametrize(
    ("rate_limit", "posts", "gets"),
    [
        ({"exempt": False, "limit_override": 3}, 3, 3),
        ({"limit_override": 5000}, 1000, 3000),  # capped as the seeds say
        ('{"limit_override": 2}', 2, 2),  # the claim as a JSON string
    ],
)
def test_a_jwts_rate_limit_claim_sets_its_limits(inproc, rate_limit, posts, gets):
    inproc.knobs(run_limit=1, get_limit=1)
    token = claims_token(rate_limit)
    assert run(inproc, token).header("X-RateLimit-Limit") == str(posts)
    assert get(inproc, token).header("X-RateLimit-Limit") == str(gets)


def test_an_exempt_token_is_never_throttled_and_gets_no_rate_headers(inproc):
    inproc.knobs(run_limit=1)
    token = claims_token({"exempt": True})
    answers = [run(inproc, token) for _ in range(5)]
    assert [a.status for a in answers] == [202] * 5
    assert answers[0].header("X-RateLimit-Limit") is None
    windows = inproc.stats()["tokens"][fingerprint(token)]["run"]["windows"]
    assert windows == [
        {
            "start": windows[0]["start"],
            "limit": None,
            "admitted": 5,
            "throttled": 0,
            "unavailable": 0,
            "unauthorized": 0,
        }
    ]


def test_a_revoked_token_answers_401_until_restored(api):
    revoked = api.request("POST", "/_admin/revoked-tokens", json={"token": PLAIN})
    assert revoked.status == 201 and revoked.json == {
        "fingerprint": fingerprint(PLAIN),
        "revoked": True,
    }
    refused = run(api, PLAIN)
    assert refused.status == 401
    assert refused.json["errors"][0]["code"] == "authentication_failed"
    assert run(api, "another-token-01").status == 202
    assert api.request("GET", "/_admin/revoked-tokens").json == {"data": [fingerprint(PLAIN)]}

    restored = api.request("DELETE", f"/_admin/revoked-tokens/{fingerprint(PLAIN)}")
    assert restored.status == 200
    assert run(api, PLAIN).status == 202
    stats = api.stats()
    assert stats["answered_401"] == 1
    assert stats["tokens"][fingerprint(PLAIN)]["run"]["answered_401"] == 1
    assert api.request("DELETE", f"/_admin/revoked-tokens/{fingerprint(PLAIN)}").status == 404


def test_revoking_needs_a_token_or_a_fingerprint(inproc):
    assert inproc.request("POST", "/_admin/revoked-tokens", json={}).status == 400
    by_print = inproc.request("POST", "/_admin/revoked-tokens", json={"fingerprint": "abc"})
    assert by_print.status == 201


def test_a_reset_forgets_revocations_and_per_token_windows(inproc):
    inproc.request("POST", "/_admin/revoked-tokens", json={"token": PLAIN})
    run(inproc, "another-token-01")
    inproc.request("POST", "/_admin/reset")
    assert run(inproc, PLAIN).status == 202
    assert set(inproc.stats()["tokens"]) == {fingerprint(PLAIN)}


def test_the_sandbox_stores_no_token(inproc, sandbox_app, tmp_path):
    token = claims_token({"limit_override": 9}, subject="secret-subject")
    run(inproc, token)
    inproc.request("POST", "/_admin/revoked-tokens", json={"token": token})
    run(inproc, token)
    raw = (tmp_path / "sandbox.db").read_bytes()
    for wal in tmp_path.glob("sandbox.db-wal"):
        raw += wal.read_bytes()
    assert token.encode() not in raw
