"""Every misconfiguration a new user met (issue 12) stops the start with one line, no traceback."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlparse

import pytest
import requests

from tests.e2e.terminal import (
    TRACEBACK,
    Terminal,
    free_port,
    gunicorn,
    relay,
    run_to_exit,
    shell_env,
)

pytestmark = pytest.mark.e2e

# (variable, value): each one alone in an otherwise empty environment (sandbox mode).
BAD_SETTINGS = [
    ("DATABASE_URL", "sqlite:relay.db"),
    ("PORT", "99999"),
    ("WEB_CONCURRENCY", "abc"),
    ("SANDBOX_CALLBACK_DROP", "abc"),
    ("FORWARD_URLS", "http://127.0.0.1:9000/;http://127.0.0.1:9001/"),
    ("DATABASE_URL", "sqlite:////{tmp}/no/such/folder/relay.db"),
    ("ZAPIER_API_BASE", "http://user:secret@127.0.0.1:8100/sandbox"),
    ("BIND_HOST", "not a host"),
]


def _one_line(done, variable: str, code: int = 2) -> None:
    everything = done.stdout + done.stderr
    assert TRACEBACK not in everything, everything
    assert done.returncode == code, everything
    assert done.stderr.strip().splitlines() == [done.stderr.strip()], everything
    assert done.stderr.startswith(f"relay: configuration error: {variable}: "), everything


COMMANDS = ["relay run", "gunicorn", "relay worker"]
CASES = [
    (command, variable, value)
    for command in COMMANDS
    for variable, value in BAD_SETTINGS
    # gunicorn parses WEB_CONCURRENCY itself when it is imported, before it reads any config
    # file: only `relay run` (which checks every setting first) can say it in one line.
    if (command, variable) != ("gunicorn", "WEB_CONCURRENCY")
]


@pytest.mark.parametrize(("command", "variable", "value"), CASES)
def test_a_bad_setting_is_one_line_naming_it(tmp_path, command, variable, value):
    value = value.replace("{tmp}", str(tmp_path).lstrip("/"))
    env = shell_env(tmp_path, **{"PORT": free_port(), variable: value})
    argv = {"relay run": relay("run"), "gunicorn": gunicorn(), "relay worker": relay("worker")}
    done = run_to_exit(argv[command], env, tmp_path)
    _one_line(done, variable)
    assert not (tmp_path / "no").exists()  # a missing folder is refused, never made


def test_the_port_in_use_stops_the_start_before_the_worker(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = shell_env(tmp_path, PORT=port)
        for command in (relay("run"), gunicorn()):
            done = run_to_exit(command, env, tmp_path)
            _one_line(done, "PORT")
            assert f"127.0.0.1:{port} is already in use" in done.stderr
            assert "Connection in use" not in done.stdout  # gunicorn's five retries
            assert "worker" not in done.stdout.lower()  # nothing started


class _Gate:
    """A TCP port that refuses connections until opened, then forwards them to PostgreSQL."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self._server: socket.socket | None = None

    def open(self) -> None:
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            sock.close()


def _gated(url: str, gate: _Gate) -> str:
    """`url` with its host and port replaced by the gate's."""
    parsed = urlparse(url)
    user = parsed.netloc.rsplit("@", 1)[0] if "@" in parsed.netloc else "postgres"
    return parsed._replace(netloc=f"{user}@127.0.0.1:{gate.port}").geturl()


@pytest.fixture
def closed_gate():
    """A port that refuses connections, opened later onto the test PostgreSQL if asked."""
    gate = _Gate(("127.0.0.1", 5432))
    yield gate
    gate.close()


@pytest.mark.parametrize("command", [("run",), ("worker",), ("db", "upgrade")])
def test_relay_names_an_unreachable_postgres_and_its_reason(tmp_path, closed_gate, command):
    url = f"postgresql://postgres@127.0.0.1:{closed_gate.port}/relay"
    env = shell_env(tmp_path, DATABASE_URL=url, PORT=free_port())
    done = run_to_exit(relay(*command), env, tmp_path)
    assert TRACEBACK not in done.stdout + done.stderr
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"relay: DATABASE_URL: cannot reach the database at 127.0.0.1:{closed_gate.port}: "
        "Connection refused"
    )


def _web_on(tmp_path, url: str) -> tuple[Terminal, str]:
    port = free_port()
    web = Terminal(gunicorn(), shell_env(tmp_path, DATABASE_URL=url, PORT=port), tmp_path, "web")
    web.wait_for(r"Booting worker", 60)
    return web, f"http://127.0.0.1:{port}/readyz"


def test_gunicorn_names_an_unreachable_postgres_and_answers_503(tmp_path, closed_gate):
    url = f"postgresql://postgres@127.0.0.1:{closed_gate.port}/relay"
    web, ready = _web_on(tmp_path, url)
    try:
        web.wait_for(
            f"DATABASE_URL: cannot reach the database at 127.0.0.1:{closed_gate.port}: "
            "Connection refused; schema not checked"
        )
        assert _status(ready) == 503
        assert TRACEBACK not in web.output()
    finally:
        web.close()


def test_readyz_is_503_until_postgres_is_back(tmp_path, postgres_url):
    parsed = urlparse(postgres_url)
    gate = _Gate((parsed.hostname, parsed.port or 5432))
    migrated = run_to_exit(
        relay("db", "upgrade"), shell_env(tmp_path, DATABASE_URL=postgres_url), tmp_path
    )
    assert migrated.returncode == 0, migrated.stderr
    web, ready = _web_on(tmp_path, _gated(postgres_url, gate))
    try:
        assert _status(ready) == 503
        gate.open()
        deadline = time.monotonic() + 30
        while _status(ready) != 200:
            assert time.monotonic() < deadline, web.output()
            time.sleep(0.2)
        assert TRACEBACK not in web.output()
    finally:
        web.close()
        gate.close()


def _status(url: str) -> int:
    deadline = time.monotonic() + 30
    while True:
        try:
            return requests.get(url, timeout=10).status_code
        except requests.RequestException:
            assert time.monotonic() < deadline
            time.sleep(0.1)
