"""`relay listen` stands alone: any shell, several secrets, one line when something is wrong."""

from __future__ import annotations

import base64
import json
import socket
import time
from datetime import UTC, datetime

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from app.config.settings import SANDBOX_FORWARD_SECRET
from tests.e2e.terminal import TRACEBACK, Terminal, free_port, relay, run_to_exit, shell_env

pytestmark = pytest.mark.e2e

SECRET_A = "whsec_" + base64.b64encode(b"listen-secret-a-0123456789abcdef").decode()
SECRET_B = "whsec_" + base64.b64encode(b"listen-secret-b-0123456789abcdef").decode()
SECRET_C = "whsec_" + base64.b64encode(b"listen-secret-c-0123456789abcdef").decode()
# A shell that has a live relay's token and nothing else the relay would need.
LIVE_SHELL = {"ZAPIER_ACCESS_TOKEN": "live-token"}


@pytest.fixture
def listen(tmp_path):
    started: list[Terminal] = []

    def _listen(*args: str, **env) -> tuple[Terminal, str]:
        port = free_port()
        command = relay("listen", "--port", str(port), *args)
        terminal = Terminal(command, shell_env(tmp_path, **env), tmp_path, f"listen-{port}")
        started.append(terminal)
        terminal.wait_for(r"listening on http://", 30)
        return terminal, f"http://127.0.0.1:{port}/"

    yield _listen
    for terminal in started:
        terminal.close()


def _forward(url: str, secret: str, msg_id: str) -> int:
    body = json.dumps({"type": "run.succeeded", "data": {"run_id": msg_id}})
    now = datetime.now(tz=UTC)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
        "content-type": "application/json",
    }
    return requests.post(url, data=body, headers=headers, timeout=10).status_code


def _printed(terminal: Terminal, text: str, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while text not in terminal.output():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_secret_is_repeatable_and_any_match_verifies(listen):
    terminal, url = listen("--secret", SECRET_A, "--secret", SECRET_B)
    assert _forward(url, SECRET_A, "msg_a") == 204
    assert _forward(url, SECRET_B, "msg_b") == 204
    assert _forward(url, SECRET_C, "msg_c") == 400
    assert _printed(terminal, "VERIFIED webhook-id=msg_a")
    assert _printed(terminal, "VERIFIED webhook-id=msg_b")
    assert _printed(terminal, "REJECTED")
    rejected = next(line for line in terminal.output().splitlines() if "msg_c" in line)
    assert "--secret" in rejected  # it says what to pass


def test_it_stands_alone_in_a_live_shell_without_forward_secret(listen):
    terminal, url = listen(**LIVE_SHELL)  # no PUBLIC_BASE_URL, no FORWARD_SECRET
    assert "sandbox's fixed forward secret" in terminal.output()
    assert "--secret" in terminal.output()
    assert _forward(url, SANDBOX_FORWARD_SECRET, "msg_sandbox") == 204
    assert TRACEBACK not in terminal.output()


def test_forward_secret_is_the_default_when_set(listen):
    _terminal, url = listen(FORWARD_SECRET=SECRET_A, **LIVE_SHELL)
    assert _forward(url, SECRET_A, "msg_a") == 204
    assert _forward(url, SANDBOX_FORWARD_SECRET, "msg_sandbox") == 400


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--secret", "not-a-secret"], {}, "--secret"),
        ([], {"FORWARD_SECRET": "not-a-secret"}, "FORWARD_SECRET"),
    ],
)
def test_a_bad_secret_is_one_line(tmp_path, args, env, named):
    command = relay("listen", "--port", str(free_port()), *args)
    done = run_to_exit(command, shell_env(tmp_path, **env), tmp_path)
    assert done.returncode == 2 and TRACEBACK not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"relay: configuration error: {named}: ")


def test_a_busy_port_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_to_exit(relay("listen", "--port", str(port)), shell_env(tmp_path), tmp_path)
    assert done.returncode == 2, done.stderr
    assert TRACEBACK not in done.stderr
    expected = f"relay: --port: 127.0.0.1:{port} is already in use: choose another"
    assert done.stderr.strip() == expected


def test_host_and_port_have_help(tmp_path):
    done = run_to_exit(relay("listen", "--help"), shell_env(tmp_path), tmp_path)
    assert done.returncode == 0
    for option in ("--host HOST", "--port PORT", "--secret WHSEC"):
        line = next(line for line in done.stdout.splitlines() if line.strip().startswith(option))
        assert len(line.split(option, 1)[1].strip()) > 10, done.stdout  # its help text
