"""Reading one environment value: numbers, flags, URLs, lists, each error naming its variable."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlparse

from app.delivery.retry_schedule import DEFAULT_RETRY_SCHEDULE


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def env_text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def env_number(env, name, default, kind=float, minimum=0):
    raw = env_text(env, name)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a {kind.__name__} >= {minimum}, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name}: expected a {kind.__name__} >= {minimum}, got {raw!r}")
    return value


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
    parsed = urlparse(raw)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"{name}: expected an http(s) URL, got {raw!r}")
    return raw.rstrip("/")


def env_list(env, name) -> tuple[str, ...]:
    raw = env_text(env, name) or ""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


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
