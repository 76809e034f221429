"""Sandbox fixtures: an in-process sandbox per test, a standalone one on a real socket."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from app.sandbox import create_sandbox_app
from tests.sandbox.contract import CONTRACT_DIR, Answer, contract_available

BEARER = {"Authorization": "Bearer sandbox-test-token"}


class FakeClock:
    """Stands in for time.time on a Sandbox, so hours pass in no time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class InProcessApi:
    """The sandbox through Flask's test client; `sandbox` is the live Sandbox object."""

    transport = "in-process"

    def __init__(self, app) -> None:
        self.app = app
        self.sandbox = app.extensions["sandbox"]
        self._client = app.test_client()

    def request(self, method: str, path: str, *, json=None, data=None, headers=None) -> Answer:
        response = self._client.open(
            "/sandbox" + path, method=method, json=json, data=data, headers=headers
        )
        return Answer(response.status_code, dict(response.headers), response.get_data())

    def knobs(self, **values) -> dict:
        answer = self.request("PATCH", "/_admin/knobs", json=values)
        assert answer.status == 200, answer.body
        return answer.json

    def stats(self) -> dict:
        return self.request("GET", "/_admin/stats").json


class SocketApi(InProcessApi):
    """The same calls over a real socket to a standalone sandbox process."""

    transport = "socket"

    def __init__(self, base: str, session: requests.Session) -> None:
        self.base = base
        self._session = session

    def request(self, method: str, path: str, *, json=None, data=None, headers=None) -> Answer:
        response = self._session.request(
            method, self.base + path, json=json, data=data, headers=headers, timeout=10
        )
        return Answer(response.status_code, dict(response.headers), response.content)


@pytest.fixture(scope="session")
def contract_dir() -> Path:
    if not contract_available():
        pytest.skip(f"upstream contract not found at {CONTRACT_DIR} (shared/ beside the repo)")
    return CONTRACT_DIR


@pytest.fixture
def sandbox_app(tmp_path):
    """A fresh standalone-style sandbox app on its own SQLite file; runs finish at once."""
    app = create_sandbox_app(
        {"SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}", "SANDBOX_RUN_SECONDS": "0"}
    )
    yield app
    app.extensions["sandbox"].close()


@pytest.fixture
def inproc(sandbox_app) -> InProcessApi:
    return InProcessApi(sandbox_app)


@pytest.fixture
def clock(inproc) -> FakeClock:
    fake = FakeClock()
    inproc.sandbox.clock = fake
    return fake


@pytest.fixture
def over_socket(sandbox_server):
    """The session's standalone sandbox (tests/conftest.py), reset before and after."""
    with requests.Session() as session:
        api = SocketApi(sandbox_server.base, session)
        assert api.request("POST", "/_admin/reset").status == 200
        api.knobs(run_seconds=0)
        yield api
        assert api.request("POST", "/_admin/reset").status == 200


@pytest.fixture(params=["in-process", "socket"])
def api(request):
    """The sandbox both ways: every contract test runs in-process and over a real socket."""
    name = "inproc" if request.param == "in-process" else "over_socket"
    return request.getfixturevalue(name)


@pytest.fixture
def receiver(make_receiver):
    """Records the sandbox's callbacks (unverified: they carry a JWT, not a webhook signature)."""
    return make_receiver(status=200)
