"""Per-account budgets on SQLite and PostgreSQL: each account's own windows and limits, upstream's
word per account, and a gateway that calls with each account's token and holds a refused one."""

import json
import time

import pytest

from app.accounts.tokens import AccountTokens
from app.config.settings import Settings
from app.store.engine import read
from app.store.tables import rate_budget
from app.upstream.account_limits import BucketLimit
from app.upstream.budget import RateBudget
from app.upstream.gateway import UpstreamGateway
from app.upstream.outcomes import Accepted, Deferred, RateInfo, Refused, Throttled, Unauthorized
from tests.support.accounts import (
    TEST_KEY,
    account_row,
    claims_token,
    replace_token,
    store_account,
)

from .contract_examples import RUN_ACCEPTED, SA_ID, SA_RUN, TOKEN

WINDOW = 300.0


@pytest.fixture
def t0():
    return time.time()


@pytest.fixture
def budget(store_engine):
    return RateBudget(store_engine, {"get": 600, "run": 200}, WINDOW)


def grants(budget, now, attempts, **account):
    return sum(budget.acquire("run", now, **account).granted for _ in range(attempts))


def test_each_account_has_its_own_windows(budget, store_engine, t0):
    three = BucketLimit(3, "override")
    assert grants(budget, t0, 5, account="acme", limit=three) == 3
    assert grants(budget, t0, 5, account="globex", limit=three) == 3
    assert grants(budget, t0, 2) == 2  # the default account's own
    with read(store_engine) as conn:
        keys = {row.bucket: row.used for row in conn.execute(rate_budget.select())}
    assert keys == {"acme/run": 3, "globex/run": 3, "default/run": 2}


def test_one_accounts_429_holds_that_account_alone(budget, t0):
    budget.acquire("run", t0, account="acme")
    budget.block("run", time.time() + 30, account="acme")

    assert 25 < budget.acquire("run", account="acme").wait <= 30
    assert budget.acquire("run", account="globex").granted
    assert budget.acquire("run").granted


def test_upstream_lowers_an_accounts_limit_but_never_raises_it(budget, t0):
    mine = BucketLimit(50, "claims")
    budget.observe("run", RateInfo(limit=10, remaining=9), t0, account="acme", limit=mine)
    assert grants(budget, t0, 20, account="acme", limit=mine) == 9  # 1 used upstream, 9 left

    budget.observe("run", RateInfo(limit=500, remaining=499), t0, account="b", limit=mine)
    assert grants(budget, t0, 100, account="b", limit=mine) == 50
    assert budget.snapshot(t0, "b")["run"]["limit"] == 50


def test_a_new_window_starts_from_the_configured_limit_again(budget, t0):
    mine = BucketLimit(50, "claims")
    budget.observe("run", RateInfo(limit=10, remaining=10), t0, account="acme", limit=mine)
    assert grants(budget, t0 + WINDOW, 60, account="acme", limit=mine) == 50


def test_a_lowered_override_applies_at_once(budget, t0):
    assert grants(budget, t0, 5, account="acme", limit=BucketLimit(100, "override")) == 5
    assert grants(budget, t0, 10, account="acme", limit=BucketLimit(8, "override")) == 3


def test_an_exempt_token_is_counted_but_never_refused(budget, t0):
    exempt = BucketLimit(None, "claims")
    assert grants(budget, t0, 700, account="free", limit=exempt) == 700
    view = budget.snapshot(t0, "free")["run"]
    assert (view["limit"], view["used"], view["remaining"]) == (None, 700, float("inf"))


def test_the_snapshot_covers_every_account(budget, t0):
    grants(budget, t0, 4, account="acme", limit=BucketLimit(10, "override"))
    views = budget.snapshot_accounts(t0 + 1, accounts=["default", "idle"])
    assert set(views) == {"acme", "default", "idle"}
    assert views["acme"]["run"]["remaining"] == 6
    assert views["idle"]["run"]["remaining"] == 200 and views["idle"]["get"]["remaining"] == 600


# --- the gateway, with one real local upstream that tells the tokens apart ---------------------


@pytest.fixture
def gateway(client, budget, store_engine):
    settings = Settings(zapier_access_token=TOKEN, relay_encryption_keys=(TEST_KEY,))
    return UpstreamGateway(client, budget, store_engine, AccountTokens(store_engine, settings))


def answer(httpserver, token, status, body, headers=None):
    httpserver.expect_request(
        SA_RUN, method="POST", headers={"Authorization": f"Bearer {token}"}
    ).respond_with_data(
        json.dumps(body), status=status, headers=headers or {}, content_type="application/json"
    )


def post(gateway, account):
    return gateway.run_stored_action("run-1", SA_ID, {"inputs": {}}, account=account)


def test_each_call_carries_its_accounts_token(gateway, store_engine, httpserver):
    store_account(store_engine, "acme", "acme-token-0001")
    answer(httpserver, "acme-token-0001", 202, RUN_ACCEPTED)
    answer(httpserver, TOKEN, 202, RUN_ACCEPTED)

    assert isinstance(post(gateway, "acme"), Accepted)
    assert isinstance(post(gateway, "default"), Accepted)
    sent = [request.headers["Authorization"] for request, _ in httpserver.log]
    assert sent == ["Bearer acme-token-0001", f"Bearer {TOKEN}"]
    assert account_row(store_engine, "acme")["last_used_at"] is not None


def test_a_rotated_token_is_used_at_the_next_call(gateway, store_engine, httpserver):
    store_account(store_engine, "acme", "acme-token-0001")
    answer(httpserver, "acme-token-0001", 202, RUN_ACCEPTED)
    answer(httpserver, "acme-token-0002", 202, RUN_ACCEPTED)
    post(gateway, "acme")

    replace_token(store_engine, "acme", "acme-token-0002")
    post(gateway, "acme")

    assert httpserver.log[1][0].headers["Authorization"] == "Bearer acme-token-0002"


def test_limits_follow_the_tokens_claims(gateway, budget, store_engine, httpserver):
    token = claims_token({"limit_override": 2})
    store_account(store_engine, "small", token)
    answer(httpserver, token, 202, RUN_ACCEPTED)

    outcomes = [post(gateway, "small") for _ in range(3)]

    assert [type(o) for o in outcomes] == [Accepted, Accepted, Deferred]
    assert budget.snapshot(account="small")["run"]["limit"] == 2


def test_an_override_beats_the_claims(gateway, budget, store_engine, httpserver):
    token = claims_token({"limit_override": 2})
    store_account(store_engine, "big", token, overrides={"run": 4})
    answer(httpserver, token, 202, RUN_ACCEPTED)

    assert sum(isinstance(post(gateway, "big"), Accepted) for _ in range(6)) == 4


def test_one_accounts_429_does_not_hold_another(gateway, store_engine, httpserver):
    store_account(store_engine, "hot", "hot-token-0001")
    store_account(store_engine, "cold", "cold-token-001")
    answer(httpserver, "hot-token-0001", 429, {"errors": []}, {"Retry-After": "60"})
    answer(httpserver, "cold-token-001", 202, RUN_ACCEPTED)

    assert isinstance(post(gateway, "hot"), Throttled)
    assert isinstance(post(gateway, "hot"), Deferred)  # held by its own Retry-After
    assert isinstance(post(gateway, "cold"), Accepted)
    assert len([r for r, _ in httpserver.log if "hot" in r.headers["Authorization"]]) == 1


def test_a_refused_token_holds_its_account_until_replaced(gateway, store_engine, httpserver):
    store_account(store_engine, "acme", "acme-token-0001")
    errors = [{"status": 401, "code": "authentication_failed", "detail": "Token expired."}]
    answer(httpserver, "acme-token-0001", 401, {"errors": errors})
    answer(httpserver, "acme-token-0002", 202, RUN_ACCEPTED)

    first = post(gateway, "acme")
    again = post(gateway, "acme")

    reason = "account acme unauthorized: upstream answered HTTP 401: Token expired."
    assert first == Unauthorized(
        "acme", reason, errors=errors, status=401, latency_ms=first.latency_ms
    )
    assert again == Unauthorized("acme", reason)  # no call: nothing spent, nothing sent
    assert len(httpserver.log) == 1
    row = account_row(store_engine, "acme")
    assert row["state"] == "unauthorized" and row["unauthorized_at"] is not None
    assert row["unauthorized_detail"] == "upstream answered HTTP 401: Token expired."

    replace_token(store_engine, "acme", "acme-token-0002")
    assert isinstance(post(gateway, "acme"), Accepted)


def test_the_default_accounts_refusal_stays_a_refusal(gateway, httpserver):
    """ZAPIER_ACCESS_TOKEN changes only with a restart: nothing could resume held work."""
    answer(httpserver, TOKEN, 401, {"errors": [{"status": 401, "code": "x", "detail": "no"}]})
    assert isinstance(post(gateway, "default"), Refused)


def test_an_unknown_or_unreadable_account_is_held_for_a_while(gateway, store_engine, httpserver):
    unknown = post(gateway, "nobody")
    assert isinstance(unknown, Unauthorized) and unknown.retry_in == 60.0
    assert "account nobody cannot be used" in unknown.reason

    store_account(store_engine, "acme", "acme-token-0001")
    keyless = AccountTokens(store_engine, Settings(zapier_access_token=TOKEN))
    gateway.tokens = keyless
    unreadable = post(gateway, "acme")
    assert isinstance(unreadable, Unauthorized) and unreadable.retry_in == 60.0
    assert "acme-token-0001" not in unreadable.reason
    assert httpserver.log == []
