"""The operator CLI's HTTP side: one relay's client API, its refusals as one-line errors."""

from __future__ import annotations

import logging
import os
import socket
from urllib.parse import urlsplit, urlunsplit

import requests

DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 15.0
API_ERROR_EXIT = 1
USAGE_EXIT = 2

# urllib3 logs each connection at DEBUG: on stdout (the relay's log handler) it would spoil --json.
logging.getLogger("urllib3").setLevel(logging.WARNING)


class CliError(Exception):
    """One line for stderr and the exit code that goes with it."""

    def __init__(self, message: str, code: int = API_ERROR_EXIT):
        super().__init__(message)
        self.code = code


def shown_url(url: str) -> str:
    """The URL without any user:password in it, fit to print."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def why(err: BaseException) -> str:
    """The root of a connection failure in a few words: refused, unknown host, or its type."""
    seen = err
    while seen.__context__ is not None or seen.__cause__ is not None:
        seen = seen.__cause__ or seen.__context__
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return "unknown host"
    return "connection failed"


def first_error(body) -> dict:
    """The first entry of the relay's {"errors": [...]}, or {} for any other body."""
    errors = body.get("errors") if isinstance(body, dict) else None
    return errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}


def refusal(status: int, body, what: str) -> CliError:
    """The one line for a refused request: what to do about a 401, what a 404 did not find."""
    entry = first_error(body)
    detail = entry.get("detail") or entry.get("title") or ""
    if status == 401:
        return CliError(f"unauthorized ({detail or 'no API key'}): set RELAY_API_KEY or --api-key")
    if status == 404:
        return CliError(f"not found: {what}" + (f" ({detail})" if detail else ""))
    where = (entry.get("source") or {}).get("parameter") or (entry.get("source") or {}).get(
        "pointer"
    )
    code = entry.get("code") or "error"
    line = f"HTTP {status} {code}" + (f": {detail}" if detail else "")
    return CliError(line + (f" ({where})" if where else ""))


class RelayClient:
    """GET and POST against the relay's /v1 API, JSON in and out, with a timeout on each."""

    def __init__(self, url: str, api_key: str = "", timeout: float = TIMEOUT_SECONDS):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"

    @classmethod
    def from_args(cls, args) -> RelayClient:
        """--url/--api-key, else RELAY_URL/RELAY_API_KEY, else the local default and no key."""
        url = getattr(args, "url", None) or os.environ.get("RELAY_URL") or DEFAULT_URL
        key = getattr(args, "api_key", None) or os.environ.get("RELAY_API_KEY") or ""
        if urlsplit(url).scheme not in ("http", "https"):
            raise CliError(f"RELAY_URL: expected http(s)://host[:port], got {url!r}", USAGE_EXIT)
        return cls(url, key.strip())

    def get(self, path: str, what: str, params: dict | None = None) -> dict:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        return self._call("GET", path, what, params=clean)

    def post(self, path: str, what: str, body: dict | None = None) -> dict:
        return self._call("POST", path, what, json=body)

    def _call(self, method: str, path: str, what: str, **kwargs) -> dict:
        address = shown_url(self.url)
        try:
            answer = self.session.request(
                method, self.url + path, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except requests.exceptions.Timeout:
            message = f"no answer from the relay at {address} within {self.timeout:g} s"
            raise CliError(message, USAGE_EXIT) from None
        except requests.exceptions.ConnectionError as err:
            message = f"cannot connect to the relay at {address}: {why(err)} (RELAY_URL or --url)"
            raise CliError(message, USAGE_EXIT) from None
        except requests.RequestException as err:
            raise CliError(f"{address}: {type(err).__name__}", USAGE_EXIT) from None
        try:
            body = answer.json()
        except ValueError:
            body = None
        if answer.status_code >= 400:
            raise refusal(answer.status_code, body, what)
        if not isinstance(body, dict):
            raise CliError(
                f"{address} answered {answer.status_code} without the relay's JSON: "
                "is RELAY_URL a relay?",
                USAGE_EXIT,
            )
        return body
