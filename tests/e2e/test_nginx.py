"""The relay behind a real nginx using deploy/nginx: triggers, callbacks and forwarded addresses."""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import threading

import pytest

from app.runs.tokens import callback_token
from tests.conftest import API_KEY, RELAY_SECRET, STORED_ACTION
from tests.support.nginx import Nginx, nginx_binary
from tests.support.processes import wait_for

pytestmark = pytest.mark.e2e
# Linux routes all of 127/8 on lo: the client speaks from .2, nginx reaches gunicorn from .1.
CLIENT_ADDR = "127.0.0.2"
NGINX_ADDR = "127.0.0.1"
SPOOFED_ADDR = "203.0.113.9"
ACCESS_LOG_ADDRESS = re.compile(r"(\S+) - \S+ \[")
TRIGGER_PATH = f"/actions/v1/stored-actions/{STORED_ACTION}/run"


@pytest.fixture
def database_url(tmp_path):
    """One store is enough here: these tests are about the proxy, not the database."""
    return f"sqlite:///{tmp_path / 'relay.db'}"


@pytest.fixture
def behind_nginx(relay_factory, tmp_path):
    binary = nginx_binary()
    proxies: list[Nginx] = []

    def start(**extra_env):
        proxy = Nginx(binary, tmp_path / "nginx")
        # A long grace period: only a callback (through nginx) can settle a run, never a poll.
        relay = relay_factory(PUBLIC_BASE_URL=proxy.base, CALLBACK_GRACE_SECONDS="60", **extra_env)
        proxies.append(proxy.start(relay.port))
        return relay, proxy

    yield start
    for proxy in proxies:
        proxy.stop()


def send(proxy: Nginx, method: str, path: str, body: bytes = b"", headers=None):
    """One request to nginx from CLIENT_ADDR; (status, body)."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", proxy.port, timeout=30, source_address=(CLIENT_ADDR, 0)
    )
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def logged_clients(relay, marker: str) -> set[str]:
    """Every client address that gunicorn's access-log line for the request with `marker` shows.

    The line is JSON or text (LOG_FORMAT); its message has the usual `%(h)s - %(u)s [%(t)s]`.
    """

    def line():
        return next((ln for ln in relay.web.output().splitlines() if marker in ln), None)

    found = wait_for(line, 10)
    record = json.loads(found) if found.startswith("{") else {"message": found}
    shown = set(ACCESS_LOG_ADDRESS.findall(record["message"]))
    if "remote_addr" in record:
        shown.add(record["remote_addr"])
    return shown


def test_a_trigger_and_its_callback_pass_through_nginx(behind_nginx, receiver):
    relay, proxy = behind_nginx(TRUSTED_PROXIES="1")
    status, body = send(
        proxy,
        "POST",
        f"{TRIGGER_PATH}?probe=trigger",
        json.dumps({"data": {"inputs": {"via": "nginx"}}}).encode(),
        {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    assert status == 202, body
    run_id = json.loads(body)["data"]["id"]

    def forwarded(got):
        return any(f["body"]["data"]["run_id"] == run_id for f in got)

    assert receiver.wait_for(forwarded, 30)
    forward = next(f for f in receiver.received if f["body"]["data"]["run_id"] == run_id)
    assert forward["body"]["data"]["source"] == "callback"
    # The sandbox called back at PUBLIC_BASE_URL, i.e. through nginx, which logs no token.
    callback_lines = [ln for ln in proxy.access_lines() if f"/callbacks/{run_id}/" in ln]
    assert callback_lines
    assert all('[redacted] HTTP/1.1" 200 ' in ln for ln in callback_lines)
    assert callback_token(RELAY_SECRET, run_id) not in proxy.access_log.read_text()
    assert logged_clients(relay, "probe=trigger") == {CLIENT_ADDR}


def test_forwarded_for_is_honoured_for_one_trusted_proxy(behind_nginx):
    relay, proxy = behind_nginx(TRUSTED_PROXIES="1")
    assert send(proxy, "GET", "/healthz?probe=plain")[0] == 200
    forged = {"X-Forwarded-For": SPOOFED_ADDR}
    assert send(proxy, "GET", "/healthz?probe=forged", headers=forged)[0] == 200

    assert logged_clients(relay, "probe=plain") == {CLIENT_ADDR}
    # nginx appends the real peer, so the forged entry stays one hop beyond the trusted one.
    assert logged_clients(relay, "probe=forged") == {CLIENT_ADDR}


def test_forwarded_for_is_ignored_by_default(behind_nginx):
    relay, proxy = behind_nginx()
    forged = {"X-Forwarded-For": SPOOFED_ADDR}
    assert send(proxy, "GET", "/healthz?probe=plain")[0] == 200
    assert send(proxy, "GET", "/healthz?probe=forged", headers=forged)[0] == 200

    assert logged_clients(relay, "probe=plain") == {NGINX_ADDR}
    assert logged_clients(relay, "probe=forged") == {NGINX_ADDR}


def test_bodies_up_to_the_relay_limit_pass_and_larger_ones_stop_at_nginx(behind_nginx):
    _relay, proxy = behind_nginx(TRUSTED_PROXIES="1")
    headers = {"Content-Type": "application/json"}
    almost_5_mib = json.dumps({"errors": [], "pad": "x" * (5 * 1024 * 1024 - 100)}).encode()
    path = "/callbacks/00000000-0000-4000-8000-000000000000/forged-token"

    status, body = send(proxy, "POST", path, almost_5_mib, headers)
    assert status == 403  # the relay itself read it and refused the token
    assert json.loads(body)["errors"][0]["status"] == 403
    status, _ = send(proxy, "POST", path, almost_5_mib + b" " * 200, headers)
    assert status == 413


SLOW_CLIENTS = 40


def slowloris(proxy: Nginx, stop: threading.Event) -> list[socket.socket]:
    """SLOW_CLIENTS sockets that each send a request's headers one line every 2 s, forever."""
    sockets = []
    for index in range(SLOW_CLIENTS):
        sock = socket.create_connection(
            ("127.0.0.1", proxy.port), timeout=5, source_address=(CLIENT_ADDR, 0)
        )
        sock.sendall(f"GET /healthz?slow={index} HTTP/1.1\r\nHost: relay\r\n".encode())
        sockets.append(sock)

    def drip():
        while not stop.wait(2.0):
            for sock in sockets:
                # nginx may close a header that takes too long: that is its job.
                with contextlib.suppress(OSError):
                    sock.sendall(b"X-Slow: 1\r\n")

    threading.Thread(target=drip, daemon=True).start()
    return sockets


def test_slow_clients_at_nginx_never_reach_gunicorn(behind_nginx):
    """40 slowloris sockets against the shipped nginx: every /healthz probe still answers, and
    gunicorn (2 processes) never sees the slow requests at all. Bare gunicorn does not
    withstand this (the README's Deployment section says so): nginx is the production front."""
    relay, proxy = behind_nginx()
    stop = threading.Event()
    sockets = slowloris(proxy, stop)
    try:
        statuses = []
        for probe in range(6):
            conn = http.client.HTTPConnection(
                "127.0.0.1", proxy.port, timeout=10, source_address=(CLIENT_ADDR, 0)
            )
            try:
                conn.request("GET", f"/healthz?probe=alive{probe}")
                statuses.append(conn.getresponse().status)
            finally:
                conn.close()
    finally:
        stop.set()
        for sock in sockets:
            sock.close()
    assert statuses == [200] * 6
    assert "slow=" not in relay.web.output()
