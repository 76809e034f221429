"""Reading one environment value: numbers, flags, URLs, lists, each error naming its variable."""

from __future__ import annotations

import contextlib
import ipaddress
import math
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

from app.delivery.retry_schedule import DEFAULT_RETRY_SCHEDULE

POSTGRES_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def env_text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def env_number(env, name, default, kind=float, minimum=0, maximum=None):
    raw = env_text(env, name)
    if raw is None:
        return default
    noun = "a whole number" if kind is int else "a number"
    expected = f"{noun} >= {minimum}"
    if maximum is not None:
        expected = f"{noun} from {minimum} to {maximum}"
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected {expected}, got {raw!r}") from None
    if not math.isfinite(value) or value < minimum or (maximum is not None and value > maximum):
        raise ConfigError(f"{name}: expected {expected}, got {raw!r}")
    return value


def env_choice(env, name, choices: tuple[str, ...], default: str) -> str:
    raw = (env_text(env, name) or default).lower()
    if raw not in choices:
        raise ConfigError(
            f"{name}: expected {', '.join(choices[:-1])} or {choices[-1]}, got {raw!r}"
        )
    return raw


def env_flag(env, name, default=False) -> bool:
    raw = env_text(env, name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}: expected true or false, got {raw!r}")


def http_url(name: str, raw: str) -> str:
    if any(char.isspace() for char in raw):
        raise ConfigError(f"{name}: expected an http(s) URL, got {raw!r} (it holds a space)")
    if raw.lower().count("://") > 1:
        # `a;b`, `a|b`: two URLs read as one, whose path is the second.
        raise ConfigError(f"{name}: expected one URL, got {raw!r}: separate URLs with commas")
    try:
        parsed = urlparse(raw)
        port_ok = parsed.port is None or parsed.port > 0
    except ValueError:
        port_ok = False
    if parsed.scheme not in ("http", "https") or not parsed.hostname or not port_ok:
        raise ConfigError(f"{name}: expected an http(s) URL, got {raw!r}")
    if parsed.username is not None or parsed.password is not None:
        # Credentials in a URL end up in logs and in error bodies; none of these URLs needs one.
        raise ConfigError(f"{name}: a user or password in the URL is not allowed")
    return raw.rstrip("/")


def env_list(env, name) -> tuple[str, ...]:
    raw = env_text(env, name) or ""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def database_url(name: str, raw: str) -> str:
    """sqlite:///path (three slashes) or postgresql://...; SQLite's folder must exist."""
    scheme, sep, rest = raw.partition("://")
    if scheme in POSTGRES_SCHEMES and sep:
        return raw
    if scheme == "sqlite" and sep and rest.startswith("/") and rest != "/":
        return raw
    if raw.startswith("sqlite:"):
        raise ConfigError(
            f"{name}: expected sqlite:/// then the file's path (sqlite:///relay.db in this folder, "
            f"sqlite:////var/lib/relay/relay.db for an absolute path), got {raw!r}"
        )
    raise ConfigError(
        f"{name}: expected sqlite:///path/to/file.db or postgresql://user@host/db, "
        f"got {redacted_url(raw)!r}"
    )


def sqlite_folder(url: str) -> Path | None:
    """The folder of a SQLite file URL (None for PostgreSQL or an in-memory database)."""
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return None
    return Path(url.removeprefix("sqlite:///").split("?", 1)[0]).parent


def database_address(url: str) -> str:
    """Where a database URL points, for a message: host:port for PostgreSQL, else the file."""
    folder = sqlite_folder(url)
    if folder is not None or url.startswith("sqlite"):
        return url.removeprefix("sqlite:///") or "memory"
    parsed = urlparse(url)
    try:
        port = parsed.port or 5432
    except ValueError:
        port = 5432
    return f"{parsed.hostname or 'localhost'}:{port}"


def redacted_url(url: str) -> str:
    """The URL without its password, for a start-up banner."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@", 1)
    return parsed._replace(netloc=netloc).geturl()


def bind_host(name: str, raw: str) -> str:
    """An address to listen on: an IPv4/IPv6 address or a host name."""
    with contextlib.suppress(ValueError):  # not an address: maybe a host name
        return str(ipaddress.ip_address(raw.strip("[]")))
    if HOST_NAME.fullmatch(raw):
        return raw
    raise ConfigError(f"{name}: expected an IP address or a host name, got {raw!r}")


def retry_schedule(env) -> tuple[int, ...]:
    items = env_list(env, "FORWARD_RETRY_SCHEDULE")
    if not items:
        return DEFAULT_RETRY_SCHEDULE
    try:
        schedule = tuple(int(item) for item in items)
    except ValueError:
        schedule = ()
    if not schedule or any(step < 0 for step in schedule):
        raise ConfigError(
            "FORWARD_RETRY_SCHEDULE: expected comma-separated whole seconds, e.g. 5,300,1800"
        )
    return schedule


def whsec_secret(raw: str | None, name: str) -> str | None:
    if raw is None:
        return None
    if not raw.startswith("whsec_") or len(raw) < 16:
        raise ConfigError(f"{name}: expected a Standard Webhooks secret starting with whsec_")
    return raw


def looks_public_https(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme != "https":
        return False
    host = parsed.hostname or ""
    if host == "localhost" or host.endswith((".local", ".internal", ".localhost")):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return True
