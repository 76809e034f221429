"""Choosing the account on both databases: triggers (`data.account`) and watches (`account`)
store it, the views show and filter by it, and forwards carry it as `data.account`."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests
from cryptography.fernet import Fernet

from app.accounts.selection import choose_account
from app.config.settings import SANDBOX_FORWARD_SECRET
from app.errors import InvalidInput
from app.store import accounts_repo
from app.store.engine import write
from app.worker.tasks import deliver_one, watch_one
from tests.integration.helpers import RUN_URL, callback_url, run_row, trigger

KEY = Fernet.generate_key().decode()
V2 = {"action": "core:Vn7xbE60", "authentication": None, "inputs": {}}


@pytest.fixture
def relay(make_app, receiver):
    """Live mode with one stored account, `acme`, and a catch-all subscription."""
    client, services = make_app({"RELAY_ENCRYPTION_KEYS": KEY})
    made = client.post("/v1/accounts", json={"id": "acme", "token": "acme-token-123456"})
    assert made.status_code == 201
    hook = {"url": receiver.url, "secret": SANDBOX_FORWARD_SECRET}
    assert client.post("/v1/webhooks", json=hook).status_code == 201
    return client, services


def settle(client, services, run_id: str) -> None:
    body = {"id": run_row(services, run_id)["upstream_run_id"], "errors": []}
    assert client.post(callback_url(run_id), json=body).status_code == 200


def deliver_all(services) -> int:
    sent = 0
    while deliver_one(services, "t"):
        sent += 1
    return sent


def test_a_trigger_names_its_account_which_is_stored_shown_and_forwarded(relay, sandbox, receiver):
    client, services = relay
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    named = trigger(client, account="acme")
    unnamed = trigger(client)
    assert run_row(services, named)["account_id"] == "acme"
    assert run_row(services, unnamed)["account_id"] == "default"
    assert client.get(f"/v1/runs/{named}").get_json()["data"]["account"] == "acme"
    listed = client.get("/v1/runs", query_string={"account": "acme"}).get_json()["data"]
    assert [r["id"] for r in listed] == [named]
    defaults = client.get("/v1/runs", query_string={"account": "default"}).get_json()["data"]
    assert [r["id"] for r in defaults] == [unnamed]

    for run_id in (named, unnamed):
        settle(client, services, run_id)
    assert deliver_all(services) == 2
    forwarded = {r["body"]["data"]["run_id"]: r["body"]["data"] for r in receiver.received}
    assert forwarded[named]["account"] == "acme"
    assert forwarded[unnamed]["account"] == "default"
    of_acme = client.get("/v1/deliveries", query_string={"account": "acme"}).get_json()["data"]
    assert [d["run_id"] for d in of_acme] == [named]
    assert client.get("/v1/deliveries", query_string={"account": "nobody"}).get_json() == {
        "data": [],
        "next_cursor": None,
    }


def test_v2_action_runs_name_their_account(relay, sandbox):
    client, services = relay
    created = client.post("/v2/action-runs", json={"data": {**V2, "account": "acme"}})
    assert created.status_code == 200, created.get_json()
    assert run_row(services, created.get_json()["data"]["id"])["account_id"] == "acme"
    unknown = client.post("/v2/action-runs", json={"data": {**V2, "account": "ghost"}})
    assert unknown.status_code == 404
    problem = unknown.get_json()["errors"][0]
    assert problem["code"] == "unknown_account" and problem["source"] == {
        "pointer": "/data/account"
    }


def test_unknown_accounts_are_404s_and_malformed_ones_400s_naming_data_account(relay, sandbox):
    """An unknown account is a reference to a missing resource, as an unknown webhook id in a
    watch is: 404, pointing at the field; a value that is no slug at all is a 400."""
    client, _ = relay
    for account, status in (("ghost", 404), ("Not A Slug", 400), (7, 400)):
        answer = client.post(RUN_URL, json={"data": {"inputs": {}, "account": account}})
        assert answer.status_code == status
        assert answer.get_json()["errors"][0]["source"] == {"pointer": "/data/account"}
    assert client.get("/v1/runs", query_string={"account": "Bad Slug"}).status_code == 400
    assert client.get("/v1/deliveries", query_string={"account": "Bad Slug"}).status_code == 400


def test_the_same_idempotency_key_with_another_account_is_a_conflict(relay, sandbox):
    client, _ = relay
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    key = {"Idempotency-Key": "order-42"}
    first = client.post(RUN_URL, json={"data": {"inputs": {}}}, headers=key)
    again = client.post(RUN_URL, json={"data": {"inputs": {}}}, headers=key)
    assert first.get_json() == again.get_json()
    other = client.post(RUN_URL, json={"data": {"inputs": {}, "account": "acme"}}, headers=key)
    assert other.status_code == 409


def test_a_watch_names_its_account_and_its_events_carry_it(relay, sandbox, receiver):
    client, services = relay
    answer = requests.post(f"{sandbox.base}/_admin/zap-runs", json={"count": 1}, timeout=10)
    assert answer.status_code == 201, answer.text
    watch = client.post(
        "/v1/zap-watches", json={"account": "acme", "from_date": "2020-01-01T00:00:00Z"}
    ).get_json()["data"]
    assert watch["account"] == "acme"
    assert client.get(f"/v1/zap-watches/{watch['id']}").get_json()["data"]["account"] == "acme"
    default = client.post("/v1/zap-watches", json={"enabled": False}).get_json()["data"]
    assert default["account"] == "default"
    unknown = client.post("/v1/zap-watches", json={"account": "ghost"})
    assert unknown.status_code == 404
    assert unknown.get_json()["errors"][0]["source"] == {"pointer": "/account"}

    assert watch_one(services, "t")
    assert deliver_all(services) == 1
    event = receiver.received[0]["body"]
    assert event["type"].startswith("zap_run.") and event["data"]["account"] == "acme"


def test_sandbox_mode_has_a_default_account(make_app, sandbox):
    client, services = make_app(dropped=("ZAPIER_ACCESS_TOKEN",))
    assert run_row(services, trigger(client))["account_id"] == "default"


def test_without_a_default_account_a_run_must_name_one(make_app):
    """No ZAPIER_ACCESS_TOKEN and not the sandbox (a relay of stored accounts only)."""
    _, services = make_app({"RELAY_ENCRYPTION_KEYS": KEY})
    settings = SimpleNamespace(zapier_access_token=None, sandbox=False)
    with write(services.engine) as conn:
        with pytest.raises(InvalidInput) as refused:
            choose_account(conn, settings, None, "/data/account")
        problem = refused.value.problems[0]
        assert problem.code == "no_default_account" and problem.pointer == "/data/account"
        assert "no default account" in problem.detail and "data.account" in problem.detail
        with pytest.raises(InvalidInput):  # named, but it is the missing default
            choose_account(conn, settings, "default", "/data/account")
        row = {
            "id": "default",
            "token_ciphertext": "x",
            "token_fingerprint": "x",
            "budget_overrides_json": "{}",
            "state": "active",
            "created_at": 0.0,
            "updated_at": 0.0,
        }
        accounts_repo.insert_account(conn, row)
        assert choose_account(conn, settings, None, "/data/account") == "default"
