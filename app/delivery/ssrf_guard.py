"""SSRF guard: forward targets on loopback, private, link-local or CGNAT addresses are refused.

Checked twice: when a target is set (check_target, a clear 400 for the client), and at every
send by the delivery session's resolver (GuardedResolver), which connects only to the
addresses it has just checked, so a DNS answer that changes in between (rebinding) is caught.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlparse

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES


class UnsafeTarget(Exception):
    """The URL is not an acceptable forward target; the message says why."""


class InvalidIPAddress(OSError):
    """A target's name resolved to an address the relay must not call."""


def address_is_public(text: str) -> bool:
    """True for a globally routable unicast address (IPv4-mapped IPv6 judged as its IPv4)."""
    ip = ipaddress.ip_address(text.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast:
        return False
    if ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return False
    return not any(ip in net for net in EXTRA_BLOCKED_NET_RANGES if net.version == ip.version)


def check_target(url: str, allow_private: bool) -> None:
    """Raise UnsafeTarget unless `url` is http(s), has no userinfo, and (unless allowed)
    every address its host resolves to is public."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise UnsafeTarget("forward targets must be http(s) URLs with a host")
    if parsed.username is not None or parsed.password is not None:
        raise UnsafeTarget("forward targets must not carry a user name or password in the URL")
    if allow_private:
        return
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        answers = socket.getaddrinfo(parsed.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise UnsafeTarget(f"{parsed.hostname} does not resolve") from err
    if not answers or not all(address_is_public(a[4][0]) for a in answers):
        raise UnsafeTarget(f"{parsed.hostname} resolves to a non-public address")


def refuse_unsafe_literal(host: str, allow_private: bool) -> None:
    """aiohttp asks no resolver about an IP literal: the guard checks those itself."""
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return  # a name: GuardedResolver checks its answers
    if not allow_private and not address_is_public(host.strip("[]")):
        raise InvalidIPAddress(f"{host} is a non-public address")


class GuardedResolver(AbstractResolver):
    """Resolves, refuses any non-public answer, and hands aiohttp only the checked addresses:
    the connection goes to exactly what was checked (resolve-then-pin)."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if not self.allow_private:
            unsafe = [a["host"] for a in answers if not address_is_public(a["host"])]
            if unsafe:
                raise InvalidIPAddress(f"{host} resolves to a non-public address {unsafe[0]}")
        return answers

    async def close(self) -> None:
        await self._inner.close()
