"""An account's limits: its override, else its JWT's rate_limit claims (read, never verified),
else the defaults; and which refusals are about the token itself."""

import json

import jwt
import pytest

from app.upstream import outcomes as oc
from app.upstream.account_limits import (
    BucketLimit,
    RateClaims,
    parse_overrides,
    rate_claims,
    resolve_limits,
)
from app.upstream.refusals import token_refusal
from tests.support.accounts import claims_token

DEFAULTS = (("get", 600), ("run", 200))


@pytest.mark.parametrize(
    ("rate_limit", "expected"),
    [
        ({"exempt": True}, RateClaims(exempt=True)),
        ({"exempt": False, "limit_override": 500}, RateClaims(limit_override=500)),
        ({"limit_override": 50}, RateClaims(limit_override=50)),
        (json.dumps({"exempt": False, "limit_override": 7}), RateClaims(limit_override=7)),
        ({"exempt": "yes"}, RateClaims()),  # only JSON true exempts
        ({"limit_override": 0}, RateClaims()),  # 1-1000: nonsense is ignored
        ({"limit_override": "500"}, RateClaims()),
        ({"limit_override": True}, RateClaims()),
        ({}, RateClaims()),
    ],
)
def test_the_rate_limit_claim_is_read_from_the_jwt(rate_limit, expected):
    assert rate_claims(claims_token(rate_limit)) == expected


@pytest.mark.parametrize(
    "token",
    [
        "sandbox",
        "opaque-oauth-token-0123456789",
        "a.b.c",  # three parts, not a JWT
        claims_token(),  # a JWT without the claim
        claims_token("not json"),
        claims_token([1, 2]),
    ],
)
def test_tokens_without_the_claim_have_none(token):
    assert rate_claims(token) is None


def test_an_expired_or_foreign_jwt_is_still_read():
    """The relay's own credential: its numbers count even if the relay cannot verify it."""
    token = jwt.encode(
        {"exp": 1, "rate_limit": {"limit_override": 42}},
        "someone-else-s-key-32-bytes-long",
        "HS256",
    )
    assert rate_claims(token) == RateClaims(limit_override=42)


def test_limits_come_from_the_override_then_the_claims_then_the_defaults():
    token = claims_token({"limit_override": 5000})  # above both caps
    limits = resolve_limits(token, json.dumps({"get": 10}), DEFAULTS)
    assert limits == {
        "get": BucketLimit(10, "override"),
        "run": BucketLimit(1000, "claims"),  # capped: 1000 run POSTs per window at most
    }
    assert resolve_limits(token, "{}", DEFAULTS)["get"] == BucketLimit(3000, "claims")
    assert resolve_limits("opaque-token-123", None, DEFAULTS) == {
        "get": BucketLimit(600, "default"),
        "run": BucketLimit(200, "default"),
    }


def test_an_exempt_token_has_no_limit_unless_overridden():
    token = claims_token({"exempt": True, "limit_override": 10})
    limits = resolve_limits(token, json.dumps({"run": 30}), DEFAULTS)
    assert limits == {"get": BucketLimit(None, "claims"), "run": BucketLimit(30, "override")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"get": 5, "run": 7}', {"get": 5, "run": 7}),
        ('{"run": 0}', {"run": 0}),
        ('{"post": 5, "get": "9", "run": true}', {}),
        ("[1]", {}),
        ("not json", {}),
        (None, {}),
    ],
)
def test_overrides_are_read_leniently(text, expected):
    assert parse_overrides(text) == expected


def error(status, code, detail="no"):
    return [{"status": status, "code": code, "detail": detail}]


@pytest.mark.parametrize(
    ("outcome", "detail"),
    [
        (oc.Refused(status=401, errors=error(401, "x", "Invalid token.")), "Invalid token."),
        (oc.Refused(status=401, errors=[]), "no detail"),
        (
            oc.Refused(
                status=403,
                errors=error(403, "permission_denied", "User does not have enough permissions"),
            ),
            "User does not have enough permissions",
        ),
        (oc.Refused(status=403, errors=error(403, "authentication_failed")), "no"),
    ],
)
def test_refusals_of_the_token_are_recognised(outcome, detail):
    said = token_refusal(outcome)
    assert said == f"upstream answered HTTP {outcome.status}: {detail}"


@pytest.mark.parametrize(
    "outcome",
    [
        oc.Refused(status=403, errors=error(403, "upstream_error", "<h1>Forbidden</h1>")),
        oc.Refused(status=400, errors=error(400, "bad_request")),
        oc.Refused(status=402, errors=error(402, "payment_required")),
        oc.Throttled(3.0, status=429),
        oc.NotFound(status=404),
    ],
)
def test_other_answers_are_not_about_the_token(outcome):
    assert token_refusal(outcome) is None
