"""SSRF guard: forward targets on loopback, private, link-local or CGNAT addresses are refused."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

from requests_hardened.ip_filter import InvalidIPAddress, get_ip_address


class UnsafeTarget(Exception):
    """The URL resolves to an address the relay must not call."""


def check_target(url: str, allow_private: bool) -> None:
    """Raise UnsafeTarget unless `url` is http(s) and (unless allowed) resolves to a public IP.

    This is the trigger-time check; the delivery session re-checks and pins the address it
    connects to, so a DNS answer that changes in between is caught there.
    """
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UnsafeTarget("forward targets must be http(s) URLs with a host")
    if allow_private:
        return
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        get_ip_address(parsed.hostname, port, allow_loopback=False)
    except InvalidIPAddress as err:
        raise UnsafeTarget(f"{parsed.hostname} resolves to a non-public address") from err
    except (socket.gaierror, UnicodeError) as err:
        raise UnsafeTarget(f"{parsed.hostname} does not resolve") from err
