"""Sandbox fixtures: an in-process sandbox per test, a standalone one on a real socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from app.sandbox import create_sandbox_app
from tests.sandbox.contract import CONTRACT_DIR, Answer, contract_available
from tests.sandbox.receiver import CallbackReceiver

REPO = Path(__file__).resolve().parents[2]
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StandaloneServer:
    """`standalone.serve` in a child process on a free loopback port, stopped with SIGTERM."""

    def __init__(self, database_url: str, log_path: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/sandbox"
        code = (
            "from app.sandbox.standalone import serve; "
            f"serve('127.0.0.1', {self.port}, {database_url!r})"
        )
        # Knobs come from the tests, never from whatever SANDBOX_* the caller's shell has.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
        env["PYTHONPATH"] = str(REPO)
        self._log = open(log_path, "ab")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_until_up(self, timeout: float = 20.0) -> StandaloneServer:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"sandbox exited with {self.proc.returncode}"
            try:
                requests.get(f"{self.base}/_admin/knobs", timeout=1).raise_for_status()
                return self
            except requests.RequestException:
                time.sleep(0.05)  # nothing to wait on but the port opening
        raise AssertionError(f"sandbox at {self.base} did not answer within {timeout}s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


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


@pytest.fixture(scope="session")
def standalone(tmp_path_factory):
    """One standalone sandbox process for the session; each test resets it."""
    workdir = tmp_path_factory.mktemp("standalone")
    server = StandaloneServer(f"sqlite:///{workdir / 'sandbox.db'}", workdir / "server.log")
    try:
        yield server.wait_until_up()
    finally:
        server.stop()


@pytest.fixture
def over_socket(standalone):
    with requests.Session() as session:
        api = SocketApi(standalone.base, session)
        assert api.request("POST", "/_admin/reset").status == 200
        api.knobs(run_seconds=0)
        yield api


@pytest.fixture(params=["in-process", "socket"])
def api(request):
    """The sandbox both ways: every contract test runs in-process and over a real socket."""
    name = "inproc" if request.param == "in-process" else "over_socket"
    return request.getfixturevalue(name)


@pytest.fixture
def receiver():
    box = CallbackReceiver().start()
    yield box
    box.close()
