"""Zapier accounts on both databases: CRUD, the 409s, tokens never shown, logged or stored in
the clear, and key rotation with `relay accounts reencrypt`."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from app.accounts.crypto import TokenBox, TokenUnreadable, fingerprint
from app.accounts.service import reencrypt_tokens
from app.cli import main as relay_main
from app.store.engine import read
from app.store.tables import accounts
from tests.integration.helpers import trigger

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
TOKEN = "zap-token-1234567890-acme"
OTHER_TOKEN = "zap-token-0987654321-rotated"


@pytest.fixture
def keyed(make_app):
    """Live mode (ZAPIER_ACCESS_TOKEN is `default`) with an encryption key."""
    return make_app({"RELAY_ENCRYPTION_KEYS": KEY_A})


def create(client, account_id="acme", token=TOKEN, **extra):
    answer = client.post("/v1/accounts", json={"id": account_id, "token": token, **extra})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["data"]


def error_of(answer) -> dict:
    return answer.get_json()["errors"][0]


def test_accounts_crud(keyed):
    client, _ = keyed
    listed = client.get("/v1/accounts").get_json()["data"]
    assert [(a["id"], a["origin"]) for a in listed] == [("default", "env")]
    assert listed[0]["token_fingerprint"] == fingerprint("test-token")

    made = create(client, budget_overrides={"run": 50, "get": 300})
    assert made["id"] == "acme" and made["origin"] == "api" and made["state"] == "active"
    assert made["token_fingerprint"] == fingerprint(TOKEN) and made["last_used_at"] is None
    assert made["budget_overrides"] == {"run": 50, "get": 300}
    assert "token" not in made and "token_ciphertext" not in made
    assert client.get("/v1/accounts/acme").get_json()["data"] == made
    assert [a["id"] for a in client.get("/v1/accounts").get_json()["data"]] == ["acme", "default"]

    budgets = client.patch("/v1/accounts/acme", json={"budget_overrides": {"run": 10}})
    assert budgets.get_json()["data"]["budget_overrides"] == {"run": 10}
    assert budgets.get_json()["data"]["token_fingerprint"] == fingerprint(TOKEN)
    rotated = client.patch("/v1/accounts/acme", json={"token": OTHER_TOKEN}).get_json()["data"]
    assert rotated["token_fingerprint"] == fingerprint(OTHER_TOKEN)
    assert rotated["budget_overrides"] == {"run": 10}
    cleared = client.patch("/v1/accounts/acme", json={"budget_overrides": None})
    assert cleared.get_json()["data"]["budget_overrides"] == {}

    assert client.delete("/v1/accounts/acme").status_code == 204
    assert client.get("/v1/accounts/acme").status_code == 404
    assert client.patch("/v1/accounts/acme", json={}).status_code == 404
    assert client.delete("/v1/accounts/acme").status_code == 404


def test_rotation_makes_an_unauthorized_account_active_again(keyed):
    client, services = keyed
    create(client)
    from app.store import accounts_repo
    from app.store.engine import write

    with write(services.engine) as conn:
        accounts_repo.update_account(
            conn,
            "acme",
            {"state": "unauthorized", "unauthorized_at": 1.0e9, "unauthorized_detail": "401"},
        )
    held = client.get("/v1/accounts/acme").get_json()["data"]
    assert held["state"] == "unauthorized" and held["unauthorized_detail"] == "401"
    assert held["unauthorized_at"] == "2001-09-09T01:46:40Z"
    back = client.patch("/v1/accounts/acme", json={"token": OTHER_TOKEN}).get_json()["data"]
    assert back["state"] == "active"
    assert back["unauthorized_at"] is None and back["unauthorized_detail"] is None


def test_refusals(keyed):
    client, _ = keyed
    create(client)
    taken = client.post("/v1/accounts", json={"id": "acme", "token": OTHER_TOKEN})
    assert taken.status_code == 409 and error_of(taken)["code"] == "account_exists"
    for answer in (
        client.post("/v1/accounts", json={"id": "default", "token": OTHER_TOKEN}),
        client.patch("/v1/accounts/default", json={"token": OTHER_TOKEN}),
        client.delete("/v1/accounts/default"),
    ):
        assert answer.status_code == 409
        assert error_of(answer)["code"] == "default_is_configured"
        assert "ZAPIER_ACCESS_TOKEN" in error_of(answer)["detail"]
    bad = client.post("/v1/accounts", json={"id": "Acme!", "token": "short"})
    assert bad.status_code == 400
    assert {e["source"]["pointer"] for e in bad.get_json()["errors"]} == {"/id", "/token"}
    unknown = client.post("/v1/accounts", json={"id": "x", "token": TOKEN, "secret": 1})
    assert unknown.status_code == 400
    over = client.post(
        "/v1/accounts", json={"id": "x", "token": TOKEN, "budget_overrides": {"x": 1}}
    )
    assert over.status_code == 400
    assert client.get("/v1/accounts/nobody").status_code == 404


def test_without_encryption_keys_an_account_cannot_be_stored(make_app):
    client, _ = make_app()
    answer = client.post("/v1/accounts", json={"id": "acme", "token": TOKEN})
    assert answer.status_code == 409
    problem = error_of(answer)
    assert problem["code"] == "encryption_unavailable"
    assert "RELAY_ENCRYPTION_KEYS" in problem["detail"]
    assert problem["source"] == {"pointer": "/token"}
    # Single-account use needs no key.
    assert client.get("/v1/accounts").status_code == 200
    assert trigger(client)


def test_delete_refuses_while_runs_or_watches_use_the_account(keyed, sandbox):
    client, _ = keyed
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    create(client)
    trigger(client, account="acme")
    answer = client.delete("/v1/accounts/acme")
    assert answer.status_code == 409 and error_of(answer)["code"] == "account_in_use"
    assert error_of(answer)["meta"] == {"open_runs": 1, "watches": 0}
    create(client, "beta")
    watch = client.post("/v1/zap-watches", json={"account": "beta"}).get_json()["data"]
    assert error_of(client.delete("/v1/accounts/beta"))["meta"] == {"open_runs": 0, "watches": 1}
    assert client.delete(f"/v1/zap-watches/{watch['id']}").status_code == 204
    assert client.delete("/v1/accounts/beta").status_code == 204


def test_sandbox_default_is_virtual(make_app):
    client, _ = make_app({"RELAY_ENCRYPTION_KEYS": KEY_A}, dropped=("ZAPIER_ACCESS_TOKEN",))
    (default,) = client.get("/v1/accounts").get_json()["data"]
    assert default["origin"] == "sandbox" and default["token_fingerprint"] is None
    assert client.get("/v1/accounts/default").get_json()["data"] == default
    for answer in (
        client.post("/v1/accounts", json={"id": "default", "token": TOKEN}),
        client.patch("/v1/accounts/default", json={"token": TOKEN}),
        client.delete("/v1/accounts/default"),
    ):
        assert answer.status_code == 409 and error_of(answer)["code"] == "default_is_virtual"
    assert create(client)["origin"] == "api"


def test_token_is_never_in_a_response_a_log_or_the_database(
    keyed, sandbox, caplog, database_url, tmp_path
):
    client, services = keyed
    caplog.set_level(logging.DEBUG)
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    answers = [client.post("/v1/accounts", json={"id": "acme", "token": TOKEN})]
    answers.append(client.patch("/v1/accounts/acme", json={"token": OTHER_TOKEN}))
    answers.append(client.post("/v1/accounts", json={"id": "acme", "token": TOKEN}))
    answers.append(client.post("/v1/accounts", json={"id": "BAD", "token": TOKEN + " "}))
    answers += [client.get("/v1/accounts"), client.get("/v1/accounts/acme")]
    trigger(client, account="acme")
    answers += [client.get("/v1/runs"), client.get("/openapi.json")]
    for answer in answers:
        for token in (TOKEN, OTHER_TOKEN):
            assert token.encode() not in answer.data
    for token in (TOKEN, OTHER_TOKEN):
        assert token not in caplog.text
        assert all(token not in str(record.args) for record in caplog.records)
    dumped = raw_database_text(services, database_url, tmp_path)
    assert "acme" in dumped  # the reading works: it sees the account's row
    for token in (TOKEN, OTHER_TOKEN):
        assert token not in dumped


def raw_database_text(services, database_url: str, tmp_path: Path) -> str:
    """Every byte the database holds: the SQLite files (WAL included) as they lie on disk, or
    every column of every table of PostgreSQL cast to text."""
    if database_url.startswith("sqlite"):
        return "".join(path.read_bytes().decode("latin-1") for path in tmp_path.glob("relay.db*"))
    with read(services.engine) as conn:
        tables = conn.execute(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        ).scalars()
        rows = [
            row
            for name in list(tables)
            for row in conn.execute(text(f'SELECT CAST(t AS text) FROM "{name}" t')).scalars()  # noqa: S608
        ]
    return "\n".join(rows)


def stored_ciphertext(services, account_id: str) -> str:
    with read(services.engine) as conn:
        stmt = select(accounts.c.token_ciphertext).where(accounts.c.id == account_id)
        return conn.execute(stmt).scalar_one()


def test_key_rotation_then_reencrypt_lets_the_old_key_go(make_app, relay_env, monkeypatch, capsys):
    old_client, _ = make_app({"RELAY_ENCRYPTION_KEYS": KEY_A})
    create(old_client, "acme")
    create(old_client, "beta", token=OTHER_TOKEN)
    # The new key first, the old one second: every token still reads.
    client, services = make_app({"RELAY_ENCRYPTION_KEYS": f"{KEY_B},{KEY_A}"})
    both = TokenBox((KEY_B, KEY_A))
    assert both.open(stored_ciphertext(services, "acme")) == TOKEN
    create(client, "gamma")  # sealed with the new key at once
    new_only = TokenBox((KEY_B,))
    with pytest.raises(TokenUnreadable):
        new_only.open(stored_ciphertext(services, "acme"))

    for name, value in {**relay_env, "RELAY_ENCRYPTION_KEYS": f"{KEY_B},{KEY_A}"}.items():
        monkeypatch.setenv(name, value)
    assert relay_main(["accounts", "reencrypt"]) == 0
    assert "re-encrypted 3 account token(s)" in capsys.readouterr().out
    assert new_only.open(stored_ciphertext(services, "acme")) == TOKEN
    assert new_only.open(stored_ciphertext(services, "beta")) == OTHER_TOKEN
    assert new_only.open(stored_ciphertext(services, "gamma")) == TOKEN
    # With the old key dropped the relay still serves every account.
    client, _ = make_app({"RELAY_ENCRYPTION_KEYS": KEY_B})
    assert (
        client.patch("/v1/accounts/acme", json={"budget_overrides": {"get": 5}}).status_code == 200
    )


def test_reencrypt_without_the_right_key_changes_nothing(make_app, monkeypatch, relay_env, capsys):
    _, services = make_app({"RELAY_ENCRYPTION_KEYS": KEY_A})
    create(make_app({"RELAY_ENCRYPTION_KEYS": KEY_A})[0])
    before = stored_ciphertext(services, "acme")
    with pytest.raises(TokenUnreadable, match="acme"):
        reencrypt_tokens(services.engine, (KEY_B,))
    assert stored_ciphertext(services, "acme") == before
    for name, value in {**relay_env, "RELAY_ENCRYPTION_KEYS": ""}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stopped:
        relay_main(["accounts", "reencrypt"])
    assert stopped.value.code == 2
    assert "RELAY_ENCRYPTION_KEYS" in capsys.readouterr().err
    assert reencrypt_tokens(services.engine, (KEY_A,)) == 1
    assert stored_ciphertext(services, "acme") != before
