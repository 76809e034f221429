"""One delivery attempt: sign, POST through the SSRF-guarded session, never follow redirects."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import requests
from requests_hardened import Config, HTTPSession

from app.delivery.signing import signed_headers
from app.upstream.rate_headers import parse_retry_after

EXCERPT_BYTES = 2048
_local = threading.local()


@dataclass(frozen=True)
class AttemptResult:
    status: int | None
    error: str | None
    latency_ms: float
    excerpt: str | None
    retry_after: float | None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        return self.status == 410


def delivery_session(allow_private: bool, timeout: float) -> requests.Session:
    """One hardened session per thread: resolves, refuses non-public IPs, pins the checked one."""
    key = (allow_private, timeout)
    session = getattr(_local, "sessions", {}).get(key)
    if session is None:
        config = Config(
            ip_filter_enable=not allow_private,
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,
            default_timeout=(min(5.0, timeout), timeout),
            user_agent_override="callback-relay/0.1",
        )
        session = HTTPSession(config)
        session.trust_env = False  # an environment proxy would bypass the address check
        _local.sessions = {**getattr(_local, "sessions", {}), key: session}
    return session


def attempt_delivery(
    session: requests.Session, url: str, secret: str, event_id: str, body: str, timeout: float
) -> AttemptResult:
    now = time.time()
    headers = signed_headers(secret, event_id, body, now)
    started = time.perf_counter()
    try:
        response = session.post(
            url,
            data=body.encode(),
            headers=headers,
            timeout=(min(5.0, timeout), timeout),
            allow_redirects=False,
            stream=True,
        )
    except requests.RequestException as err:
        latency = (time.perf_counter() - started) * 1000
        return AttemptResult(None, f"{type(err).__name__}: {err}"[:500], latency, None, None)
    try:
        raw = response.raw.read(EXCERPT_BYTES, decode_content=True) or b""
    except Exception:  # a body cut short still leaves the status we got
        raw = b""
    finally:
        response.close()
    latency = (time.perf_counter() - started) * 1000
    retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    excerpt = raw.decode("utf-8", errors="replace")
    return AttemptResult(response.status_code, error, latency, excerpt, retry_after)
