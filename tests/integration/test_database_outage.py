"""A database outage is a 503 with Retry-After in the error shape, never a 500; and a run
that was stored before the outage hit is answered 202, so a retry creates no second run."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from app import create_app
from tests.integration.helpers import RUN_URL, run_row
from tests.support.processes import free_port
from tests.support.stack import API_KEY


def test_an_unreachable_database_answers_503_with_retry_after(relay_env):
    nowhere = f"postgresql://relay@127.0.0.1:{free_port()}/nowhere"
    client = create_app({**relay_env, "DATABASE_URL": nowhere}).test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {API_KEY}"
    answer = client.post(RUN_URL, json={"data": {"inputs": {}}})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    [entry] = answer.get_json()["errors"]
    assert (entry["status"], entry["code"]) == (503, "database_unavailable")
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'relay.db'}"


def test_a_run_stored_before_the_outage_is_answered_202(client, services, sandbox):
    """The insert commits, upstream accepts, then the database fails: before, a 500."""
    failing = {"on": False}

    def fail_after_upstream(_conn, _cursor, statement, *_args):
        if failing["on"] and statement.lstrip().upper().startswith("UPDATE RUNS"):
            raise OperationalError(statement, {}, Exception("the database went away"))

    def arm(_run_id, *_args, **_kwargs):
        failing["on"] = True

    event.listen(services.engine, "before_cursor_execute", fail_after_upstream)
    original = services.gateway.run_stored_action

    def submit_then_fail(run_id, *args, **kwargs):
        outcome = original(run_id, *args, **kwargs)
        arm(run_id)
        return outcome

    services.gateway.run_stored_action = submit_then_fail
    try:
        answer = client.post(RUN_URL, json={"data": {"inputs": {}}})
    finally:
        event.remove(services.engine, "before_cursor_execute", fail_after_upstream)
        services.gateway.run_stored_action = original
    assert answer.status_code == 202, answer.get_json()
    run = run_row(services, answer.get_json()["data"]["id"])
    assert run["state"] == "queued" and run["lease_until"] is not None


def test_readyz_names_the_upgrade_when_the_schema_is_behind(relay_env, tmp_path):
    """Before: a 500 and a traceback on every /readyz while the schema was not migrated."""
    stale = f"sqlite:///{tmp_path / 'unmigrated.db'}"
    client = create_app({**relay_env, "DATABASE_URL": stale}).test_client()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert "relay db upgrade" in answer.get_json()["errors"][0]["detail"]
