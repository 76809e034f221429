"""The first hour of a new user (issue 12): `relay run` starts safe and quiet, stops on Ctrl+C."""

from __future__ import annotations

import re
import socket
import time

import pytest
import requests

from tests.e2e.terminal import (
    TRACEBACK,
    Terminal,
    free_port,
    gunicorn,
    port_is_free,
    relay,
    shell_env,
)

pytestmark = pytest.mark.e2e

BANNER = r"Callback Relay is running at (http://\S+)"
STORED_ACTION = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def start(tmp_path):
    """`relay run` in a fresh folder, as a terminal starts it; closed at teardown."""
    started: list[Terminal] = []

    def _start(name: str = "relay-run", **settings) -> tuple[Terminal, str]:
        port = settings.pop("PORT", None) or free_port()
        env = shell_env(tmp_path, PORT=port, CALLBACK_GRACE_SECONDS=60, **settings)
        terminal = Terminal(relay("run"), env, tmp_path, name)
        started.append(terminal)
        base = f"http://127.0.0.1:{port}"
        _wait(lambda: _answers(f"{base}/healthz") or terminal.proc.poll() is not None, 90)
        terminal.wait_for(r"worker \S+ started", 60)  # as a person sees it: all of it up
        return terminal, base

    yield _start
    for terminal in started:
        terminal.close()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def _trigger(base: str) -> str:
    answer = requests.post(
        f"{base}/actions/v1/stored-actions/{STORED_ACTION}/run",
        json={"data": {"inputs": {"message": "hello"}}},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    return answer.json()["data"]["id"]


def _settled(base: str, run_id: str) -> bool:
    answer = requests.get(f"{base}/v1/runs/{run_id}", timeout=10)
    return answer.ok and answer.json().get("state") not in ("queued", "submitted", "waiting")


def _stop_with_ctrl_c(terminal: Terminal) -> tuple[int | None, str]:
    terminal.ctrl_c()
    # Far more than "a few seconds", far less than gunicorn's 30 s graceful timeout: a hang shows.
    code = terminal.wait(25)
    return code, terminal.output()


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET: nothing is sent, a route is chosen
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_sandbox_mode_listens_on_loopback_only(start):
    terminal, base = start()
    port = int(base.rsplit(":", 1)[1])
    assert f"Listening at: http://127.0.0.1:{port}" in terminal.output()
    assert re.search(BANNER, terminal.output()).group(1) == base
    other = _non_loopback_address()
    if other:
        with pytest.raises(OSError):
            socket.create_connection((other, port), timeout=2).close()


def test_bind_host_opens_it_on_purpose(start):
    terminal, base = start(BIND_HOST="0.0.0.0")
    port = int(base.rsplit(":", 1)[1])
    assert f"Listening at: http://0.0.0.0:{port}" in terminal.output()


def test_ctrl_c_stops_web_and_worker_cleanly(start):
    for round_ in range(2):  # the old hang came in about half of the tries
        terminal, base = start(f"round{round_}", WEB_CONCURRENCY=4)
        port = int(base.rsplit(":", 1)[1])
        for _ in range(3):
            _trigger(base)  # the sandbox and its callbacks keep every web process busy
        code, output = _stop_with_ctrl_c(terminal)
        assert code == 0, output
        assert "SIGKILL" not in output and TRACEBACK not in output, output
        assert "worker" in output and re.search(r"worker \S+ stopped", output), output
        assert port_is_free(port), f"something still listens on {port}:\n{output}"


def test_ctrl_c_on_gunicorn_alone_stops_it_cleanly(tmp_path):
    """A terminal's SIGINT reaches gunicorn's master and its workers at once; the master then
    stops each worker too (SIGQUIT). A worker must not take two stop signals, nor act on one
    inside its handler: one landing as it handed a connection to its threads deadlocked it."""
    for round_ in range(2):
        port = free_port()
        env = shell_env(tmp_path, PORT=port, WEB_CONCURRENCY=4)
        migrate = Terminal(relay("db", "upgrade"), env, tmp_path, f"migrate{round_}")
        assert migrate.wait(60) == 0, migrate.output()
        migrate.close()
        web = Terminal(gunicorn(), env, tmp_path, f"gunicorn{round_}")
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(lambda url=f"{base}/healthz": _answers(url), 60)
            for _ in range(3):
                _trigger(base)
            code, output = _stop_with_ctrl_c(web)
            assert code == 0, output
            assert "SIGKILL" not in output and TRACEBACK not in output, output
            assert port_is_free(port), f"something still listens on {port}:\n{output}"
        finally:
            web.close()


def test_one_banner_one_log_format(start):
    terminal, base = start()
    _trigger(base)
    output = terminal.output()
    assert len(re.findall(BANNER, output)) == 1
    banner = output[output.index("Callback Relay is running") :].splitlines()[:7]
    for label in ("mode", "database", "web", "worker", "next"):
        assert any(line.split()[0] == label for line in banner[1:]), banner
    assert "relay listen --port 9000" in "\n".join(banner)
    assert "SANDBOX MODE:" not in output  # the old warnings, three times in two wordings
    assert re.search(r" INFO \d+ alembic\.runtime\.migration Running upgrade", output), output
    assert not [line for line in output.splitlines() if line.startswith("{")], output


def test_the_sandboxs_own_calls_stay_out_of_the_access_log(start):
    terminal, base = start()
    run_id = _trigger(base)
    _wait(lambda: _settled(base, run_id))
    output = terminal.output()
    assert f"POST /actions/v1/stored-actions/{STORED_ACTION}/run" in output
    assert "POST /sandbox/" not in output and "GET /sandbox/" not in output, output


def test_fault_knobs_start_from_the_environment_at_every_start(start):
    terminal, base = start("first")
    knobs = f"{base}/sandbox/_admin/knobs"
    assert requests.patch(knobs, json={"callback_drop": 1}, timeout=10).ok
    assert requests.get(knobs, timeout=10).json()["callback_drop"] == 1
    code, output = _stop_with_ctrl_c(terminal)
    assert code == 0, output

    terminal, base = start("second")
    assert requests.get(f"{base}/sandbox/_admin/knobs", timeout=10).json()["callback_drop"] == 0
    _stop_with_ctrl_c(terminal)

    _terminal, base = start("third", SANDBOX_CALLBACK_DROP="0.25")
    assert requests.get(f"{base}/sandbox/_admin/knobs", timeout=10).json()["callback_drop"] == 0.25


def _wait(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.1)
