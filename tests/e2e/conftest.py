"""A real relay: gunicorn web + worker processes on SQLite or PostgreSQL, and the sandbox."""

from __future__ import annotations

import pytest

from tests.support.stack import Relay

# Short graces, polls, retries and leases, so faults play out within a test's time.
E2E_SETTINGS = {
    "WEB_CONCURRENCY": "2",
    "FORWARD_RETRY_SCHEDULE": "0,1,1,1",
    "CALLBACK_GRACE_SECONDS": "1",
    "POLL_MAX_INTERVAL_SECONDS": "1",
    "WORKER_LEASE_SECONDS": "3",
    "LOG_LEVEL": "info",
}


def e2e_relay(workdir, db_url: str, sandbox, receiver, extra_env: dict | None = None) -> Relay:
    """A live relay on `sandbox` forwarding to `receiver`, not started yet."""
    settings = {**E2E_SETTINGS, **(extra_env or {})}
    return Relay.live(workdir, db_url, sandbox.base, receiver.url, **settings)


@pytest.fixture
def relay_factory(tmp_path, database_url, sandbox, receiver):
    started: list[Relay] = []

    def start(**extra_env) -> Relay:
        relay = e2e_relay(tmp_path, database_url, sandbox, receiver, extra_env).start()
        started.append(relay)
        return relay

    yield start
    for relay in started:
        relay.stop()
