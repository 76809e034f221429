"""One delivery attempt over aiohttp: signed, one hard deadline for all of it, no redirects."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp
from yarl import URL

from app.delivery.signing import signed_headers
from app.delivery.ssrf_guard import GuardedResolver, InvalidIPAddress, refuse_unsafe_literal
from app.upstream.rate_headers import parse_retry_after

EXCERPT_BYTES = 2048
USER_AGENT = "callback-relay/0.1"


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


def open_session(allow_private: bool, max_connections: int) -> aiohttp.ClientSession:
    """One session per worker process: the guarded resolver, no DNS cache (every send checks
    the answer it connects to), no environment proxy (it would bypass the address check)."""
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(allow_private),
        use_dns_cache=False,
        limit=max_connections,
        limit_per_host=0,
    )
    return aiohttp.ClientSession(
        connector=connector,
        trust_env=False,
        auto_decompress=False,
        headers={"User-Agent": USER_AGENT},
    )


async def send_attempt(
    session: aiohttp.ClientSession,
    url: str,
    secrets: list[str],
    event_id: str,
    body: str,
    deadline: float,
    allow_private: bool,
) -> AttemptResult:
    """POST `body` to `url`; everything (connect, TLS, headers, body) ends within `deadline`."""
    now = time.time()
    headers = signed_headers(secrets, event_id, body, now)
    started = time.perf_counter()
    try:
        refuse_unsafe_literal(URL(url).host or "", allow_private)
        async with asyncio.timeout(deadline):
            async with session.post(
                url,
                data=body.encode(),
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=deadline),
            ) as response:
                raw = await response.content.read(EXCERPT_BYTES)
                status, answer_headers = response.status, response.headers
    except TimeoutError:
        return _failed(started, f"TimeoutError: no complete answer within {deadline:g}s")
    except (aiohttp.ClientError, OSError, ValueError) as err:
        return _failed(started, _describe(err))
    latency = (time.perf_counter() - started) * 1000
    retry_after = parse_retry_after(answer_headers.get("Retry-After"), time.time())
    error = None if 200 <= status < 300 else f"HTTP {status}"
    excerpt = raw.decode("utf-8", errors="replace")
    return AttemptResult(status, error, latency, excerpt, retry_after)


def _failed(started: float, error: str) -> AttemptResult:
    latency = (time.perf_counter() - started) * 1000
    return AttemptResult(None, error[:500], latency, None, None)


def _describe(err: BaseException) -> str:
    """The root cause when it is the guard's refusal (aiohttp wraps it), else the error."""
    cause: BaseException | None = err
    while cause is not None:
        if isinstance(cause, InvalidIPAddress):
            return f"{type(cause).__name__}: {cause}"
        cause = cause.__cause__ or getattr(cause, "os_error", None)
    return f"{type(err).__name__}: {err}"
