"""A token upstream refuses loses nothing: the account's submissions and polls wait (runs stay
open, with a reason), the operator hears once, and a replaced token resumes the work; a run
fails for it only at RUN_MAX_AGE_SECONDS. On SQLite and PostgreSQL, against the sandbox."""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import select, update

from app.accounts.crypto import fingerprint
from app.store.engine import read, write
from app.store.tables import upstream_calls as upstream_calls_table
from app.store.tables import zap_watches
from app.worker.tasks import deliver_one, poll_one, submit_one, watch_one
from tests.integration.conftest import OPS_SECRET
from tests.integration.helpers import run_row, trigger
from tests.support.accounts import TEST_KEY, account_row, replace_token, store_account

OLD, NEW = "acme-token-old-0001", "acme-token-new-0002"


@pytest.fixture
def relay(make_app, ops_receiver, sandbox):
    client, services = make_app(
        {
            "RELAY_ENCRYPTION_KEYS": TEST_KEY,
            "OPS_WEBHOOK_URLS": ops_receiver.url,
            "OPS_WEBHOOK_SECRET": OPS_SECRET,
        }
    )
    store_account(services.engine, "acme", OLD)
    sandbox.knobs(callback_drop=1.0, run_seconds=0.0)  # results come by polling
    return client, services


def revoke(sandbox, token: str) -> None:
    answer = requests.post(
        f"{sandbox.base}/_admin/revoked-tokens", json={"token": token}, timeout=10
    )
    assert answer.status_code == 201, answer.text


def drain(task, services) -> int:
    done = 0
    while task(services, "test-worker"):
        done += 1
    return done


def upstream_calls(services) -> list[dict]:
    with read(services.engine) as conn:
        return [dict(row) for row in conn.execute(select(upstream_calls_table)).mappings()]


def events(receiver, event_type):
    return [r["body"] for r in receiver.received if r["body"]["type"] == event_type]


def test_a_refused_token_holds_the_work_and_a_new_one_resumes_it(relay, sandbox, ops_receiver):
    client, services = relay
    submitted = trigger(client, account="acme")  # accepted before the token goes bad
    waiting = trigger(client, account="acme")
    assert run_row(services, submitted)["state"] == "submitted"
    revoke(sandbox, OLD)

    assert drain(poll_one, services) == 1  # the first poll meets the 401; the other waits
    queued = trigger(client, account="acme")  # no call: the account is held already
    other = trigger(client)  # the default account is not held

    reason = (
        "account acme unauthorized: upstream answered HTTP 401: Incorrect authentication "
        "credentials: this token was revoked (sandbox)."
    )
    for run_id in (submitted, waiting):
        row = run_row(services, run_id)
        assert row["state"] in ("submitted", "waiting") and row["reason"] == reason
    row = run_row(services, queued)
    assert (row["state"], row["reason"], row["submit_attempts"]) == ("queued", reason, 0)
    assert run_row(services, other)["state"] == "submitted"
    account = account_row(services.engine, "acme")
    assert account["state"] == "unauthorized" and account["unauthorized_at"] is not None
    assert drain(submit_one, services) == 0  # held: the claims skip the account's runs
    assert drain(poll_one, services) == 1  # the default account's run only
    assert run_row(services, other)["state"] == "succeeded"
    assert len([c for c in upstream_calls(services) if c["status"] == 401]) == 1

    while deliver_one(services, "test"):
        pass
    [event] = events(ops_receiver, "account.unauthorized")
    assert event["data"]["account"] == "acme"
    assert event["data"]["token_fingerprint"] == fingerprint(OLD)
    assert event["data"]["detail"].startswith("upstream answered HTTP 401")
    assert OLD not in str(ops_receiver.received)

    replace_token(services.engine, "acme", NEW)  # what PATCH /v1/accounts/acme does
    assert drain(submit_one, services) == 1
    mine = (submitted, waiting, queued)
    deadline = time.monotonic() + 20
    while {run_row(services, r)["state"] for r in mine} != {"succeeded"}:
        drain(poll_one, services)
        assert time.monotonic() < deadline, [run_row(services, r) for r in mine]
    assert account_row(services.engine, "acme")["state"] == "active"


def test_a_held_run_expires_only_at_its_max_age(make_app, sandbox):
    client, services = make_app({"RELAY_ENCRYPTION_KEYS": TEST_KEY, "RUN_MAX_AGE_SECONDS": "3"})
    store_account(services.engine, "acme", OLD)
    sandbox.knobs(callback_drop=1.0, run_seconds=3600.0)
    submitted = trigger(client, account="acme")
    revoke(sandbox, OLD)
    queued = trigger(client, account="acme")
    assert run_row(services, submitted)["reason"].startswith("account acme unauthorized")

    assert drain(submit_one, services) == 0 and drain(poll_one, services) == 0
    time.sleep(3.2)
    assert drain(submit_one, services) == 1 and drain(poll_one, services) == 1
    for run_id in (queued, submitted):
        row = run_row(services, run_id)
        assert row["state"] == "expired", row
        assert "RUN_MAX_AGE_SECONDS" in row["reason"]


def test_a_watch_of_a_refused_account_waits_without_calling(make_app, sandbox):
    client, services = make_app({"RELAY_ENCRYPTION_KEYS": TEST_KEY})
    store_account(services.engine, "acme", OLD)
    answer = client.post("/v1/zap-watches", json={"account": "acme"})
    assert answer.status_code == 201, answer.get_json()
    watch_id = answer.get_json()["data"]["id"]
    revoke(sandbox, OLD)

    def scan() -> dict:
        with write(services.engine) as conn:
            conn.execute(
                update(zap_watches).where(zap_watches.c.id == watch_id).values(next_poll_at=0)
            )
        assert watch_one(services, "t")
        with read(services.engine) as conn:
            return dict(
                conn.execute(select(zap_watches).where(zap_watches.c.id == watch_id))
                .mappings()
                .one()
            )

    first = scan()
    assert first["last_error"].startswith("account acme unauthorized: upstream answered HTTP 401")
    assert first["next_poll_at"] > time.time() + 20
    calls = len(upstream_calls(services))
    scan()
    assert len(upstream_calls(services)) == calls  # held: no call with the refused token

    replace_token(services.engine, "acme", NEW)
    assert scan()["last_error"] is None
    assert len(upstream_calls(services)) == calls + 1
