"""HTTP for the upstream client with one total deadline per call (aiohttp on a loop thread).

`requests` times out per socket read, so an upstream that drips a byte every few seconds can
hold a caller for minutes. Here every call, from connect to the last body byte, ends within its
deadline: the caller's thread waits for a coroutine on this process's loop thread, and aiohttp
cancels the request when `ClientTimeout(total=...)` runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from dataclasses import dataclass

import aiohttp
from multidict import CIMultiDictProxy

# Past the deadline the caller stops waiting even if the loop thread is slow to cancel.
WAIT_MARGIN_SECONDS = 1.0
MAX_BODY_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class HttpAnswer:
    """What came back: the status, headers and body text (the body read to its end)."""

    status_code: int
    headers: CIMultiDictProxy
    text: str


class TransportFailure(Exception):
    """No answer: `timeout` or a connection error; the message says which."""

    def __init__(self, timeout: bool, detail: str):
        super().__init__(detail)
        self.timeout = timeout


class LoopThread:
    """One event loop on a daemon thread per process, started on first use (after a fork)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                self._loop = asyncio.new_event_loop()
                self._pid = os.getpid()
                thread = threading.Thread(
                    target=self._loop.run_forever, name="upstream-http", daemon=True
                )
                thread.start()
            return self._loop

    def run(self, coro, wait: float):
        future = asyncio.run_coroutine_threadsafe(coro, self.loop())
        try:
            return future.result(timeout=wait)
        except TimeoutError:
            future.cancel()
            raise


class Transport:
    """Sends one request at a time per caller; sessions live on the loop thread."""

    def __init__(self, headers: dict[str, str], connect_timeout: float, total_timeout: float):
        self.headers = headers
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.loop_thread = LoopThread()
        self._session: aiohttp.ClientSession | None = None

    def request(self, method: str, url: str, deadline: float | None = None, **kwargs):
        """An HttpAnswer, or TransportFailure when none came within the deadline. `headers`
        (the account's Authorization) go with this request only, on top of the session's."""
        total = min(deadline or self.total_timeout, self.total_timeout)
        try:
            return self.loop_thread.run(
                self._request(method, url, total, **kwargs), total + WAIT_MARGIN_SECONDS
            )
        except TimeoutError:
            raise TransportFailure(True, f"no complete answer within {total:g}s") from None

    async def _request(self, method: str, url: str, total: float, **kwargs) -> HttpAnswer:
        timeout = aiohttp.ClientTimeout(total=total, connect=min(self.connect_timeout, total))
        try:
            async with self._get_session().request(
                method, url, timeout=timeout, allow_redirects=False, **kwargs
            ) as response:
                body = await response.content.read(MAX_BODY_BYTES)
                text = body.decode("utf-8", "replace")  # the contract's bodies are JSON
                return HttpAnswer(response.status, response.headers, text)
        except TimeoutError:
            raise TransportFailure(True, f"no complete answer within {total:g}s") from None
        except (aiohttp.ClientError, OSError, ValueError) as err:
            raise TransportFailure(False, f"{type(err).__name__}: {err}") from None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # An environment proxy or ~/.netrc must not reroute or re-authenticate the calls.
            self._session = aiohttp.ClientSession(headers=self.headers, trust_env=False)
        return self._session

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            with contextlib.suppress(TimeoutError, RuntimeError):
                self.loop_thread.run(session.close(), 5.0)
