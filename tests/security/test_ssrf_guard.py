"""SSRF guard (live defaults): every non-public address class is refused when a target is set,
and again at delivery, where the checked address is pinned so a DNS answer that changes in
between (rebinding) never reaches loopback. No packet leaves this machine: any connection to
a non-loopback address is refused locally and recorded."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from app.delivery.ssrf_guard import UnsafeTarget, check_target
from app.worker.tasks import deliver_one
from tests.integration.helpers import RUN_URL, callback_url, run_row, trigger

PUBLIC = "93.184.216.34"  # never contacted: the connect below refuses it
BLOCKED = {
    "10/8": "10.1.2.3",
    "172.16/12": "172.31.255.254",
    "192.168/16": "192.168.0.1",
    "127/8": "127.0.0.1",
    "127/8 other": "127.9.9.9",
    "169.254/16 (metadata)": "169.254.169.254",
    "0.0.0.0": "0.0.0.0",
    "CGNAT 100.64/10": "100.64.0.1",
    "::1": "[::1]",
    "fc00::/7": "[fd12:3456::1]",
    "fe80::/10": "[fe80::1]",
    "IPv4-mapped loopback": "[::ffff:127.0.0.1]",
    "IPv4-mapped private": "[::ffff:10.0.0.1]",
    "NAT64 of loopback": "[64:ff9b::7f00:1]",
    "6to4 of loopback": "[2002:7f00:1::1]",
}


@pytest.mark.parametrize("host", list(BLOCKED.values()), ids=list(BLOCKED))
def test_every_non_public_address_is_refused_wherever_a_target_is_set(guarded, sandbox, host):
    client, _ = guarded
    url = f"http://{host}:8080/hook"
    with pytest.raises(UnsafeTarget):
        check_target(url, allow_private=False)
    hook = client.post("/v1/webhooks", json={"url": url})
    run = client.post(RUN_URL, json={"data": {"inputs": {}, "callback_url": url}})
    for response, pointer in ((hook, "/url"), (run, "/data/callback_url")):
        entry = response.get_json()["errors"][0]
        assert (response.status_code, entry["source"]) == (400, {"pointer": pointer})
        # The URL validator already refuses some spellings (IPv4-mapped), the guard the rest.
        assert entry["code"] in ("unsafe_target", "invalid")


@pytest.fixture
def network(monkeypatch):
    """A resolver for *.test names (scripted answers) and a connect that never leaves loopback."""
    answers: dict[str, list[str]] = {}
    connects: list[tuple] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".test"):
            queue = answers[host]
            ip = queue.pop(0) if len(queue) > 1 else queue[0]  # the last answer sticks
            family = socket.AF_INET6 if ":" in ip else socket.AF_INET
            sockaddr = (ip, port, 0, 0) if family == socket.AF_INET6 else (ip, port)
            return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]
        return real_getaddrinfo(host, port, *args, **kwargs)

    def connect(sock, address):
        connects.append(address)
        if not ipaddress.ip_address(address[0]).is_loopback:
            raise ConnectionRefusedError("refused locally: this test never leaves the machine")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return answers, connects


def _settled_run(client, services, sandbox) -> str:
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    run_id = trigger(client)
    body = {"id": run_row(services, run_id)["upstream_run_id"], "errors": []}
    assert client.post(callback_url(run_id), json=body).status_code == 200
    return run_id


@pytest.mark.parametrize(
    ("script", "pinned"),
    [
        ([PUBLIC, "127.0.0.1"], False),  # public when created, loopback when delivered
        ([PUBLIC, "::ffff:127.0.0.1"], False),  # the same through an IPv4-mapped answer
        ([PUBLIC, PUBLIC, "127.0.0.1"], True),  # loopback only between check and connect
    ],
    ids=["rebound-before-delivery", "rebound-to-mapped-v6", "rebound-after-the-check"],
)
def test_dns_rebinding_never_reaches_loopback(guarded, sandbox, receiver, network, script, pinned):
    client, services = guarded
    answers, connects = network
    port = int(receiver.url.split(":")[2].split("/")[0])
    answers["rebind.test"] = list(script)
    created = client.post("/v1/webhooks", json={"url": f"http://rebind.test:{port}/hook"})
    assert created.status_code == 201  # the first answer was public
    run_id = _settled_run(client, services, sandbox)
    assert deliver_one(services, "security-test")
    attempt = client.get(f"/v1/runs/{run_id}").get_json()["data"]["deliveries"][0]["attempts"][0]
    assert attempt["status"] is None
    assert ("InvalidIPAddress" in attempt["error"]) is not pinned
    assert receiver.received == [] and receiver.rejected == []
    loopback_hits = [a for a in connects if a[1] == port and ipaddress.ip_address(a[0]).is_loopback]
    assert loopback_hits == []
    # Pinned: the only connection tried for the target went to the address that was checked.
    assert [a[0] for a in connects if a[1] == port] == ([PUBLIC] if pinned else [])


@pytest.mark.parametrize(
    "url", ["http://alice:pw@example.com/hook", "http://alice@example.com/hook"]
)
def test_urls_with_userinfo_are_refused_naming_the_field(guarded, url):
    """Before: accepted, and the password showed in GET /v1/webhooks and in delivery logs."""
    client, _ = guarded
    hook = client.post("/v1/webhooks", json={"url": url})
    run = client.post(RUN_URL, json={"data": {"inputs": {}, "callback_url": url}})
    for response, pointer in ((hook, "/url"), (run, "/data/callback_url")):
        assert response.status_code == 400
        assert response.get_json()["errors"][0]["source"] == {"pointer": pointer}
    assert "pw" not in str(client.get("/v1/webhooks").get_json())
