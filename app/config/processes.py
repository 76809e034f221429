"""How the processes run: where the web listens, their log lines, database files, sandbox knobs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from app.config.values import (
    ConfigError,
    bind_host,
    database_url,
    env_choice,
    env_text,
    sqlite_folder,
    whsec_secret,
)

LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
WILDCARD_HOSTS = ("0.0.0.0", "::")


def listen_host(env: Mapping[str, str], sandbox: bool) -> str:
    """BIND_HOST, else loopback in sandbox mode (an open API, open knobs, no SSRF guard) and
    every interface in live mode."""
    raw = env_text(env, "BIND_HOST")
    if raw is None:
        return "127.0.0.1" if sandbox else "0.0.0.0"
    return bind_host("BIND_HOST", raw)


def local_url(host: str, port: int) -> str:
    """The URL a local client uses to reach a server bound to host:port."""
    if host in WILDCARD_HOSTS:
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def log_format(env: Mapping[str, str]) -> str:
    return env_choice(env, "LOG_FORMAT", LOG_FORMATS, "json")


def log_level(env: Mapping[str, str]) -> str:
    """As the logging module names it (INFO, ...)."""
    return env_choice(env, "LOG_LEVEL", LOG_LEVELS, "info").upper()


def database_setting(env: Mapping[str, str], name: str, default: str, instance: Path) -> str:
    return checked_database_url(name, env_text(env, name) or default, instance)


def checked_database_url(name: str, raw: str, instance: Path) -> str:
    """A database URL; a SQLite file's folder must exist, except the instance folder itself,
    which the relay creates (never a chain of missing folders, never one the user named)."""
    url = database_url(name, raw)
    folder = sqlite_folder(url)
    if folder is None or folder.is_dir():
        return url
    if folder.absolute() == instance.absolute():
        if folder.parent.is_dir():
            return url
        raise ConfigError(f"RELAY_INSTANCE_DIR: the folder {folder.parent} does not exist")
    raise ConfigError(f"{name}: the folder {folder} does not exist; create it or fix the path")


def check_sandbox_knobs(env: Mapping[str, str]) -> None:
    """SANDBOX_<KNOB> values are checked with the rest, not when a web process boots."""
    if not any(name.startswith("SANDBOX_") and name != "SANDBOX_DATABASE_URL" for name in env):
        return
    # Imported here, and only then: the app.sandbox package imports this layer (and Flask).
    from app.sandbox.knobs import KnobError, from_env

    try:
        from_env(env)
    except KnobError as err:
        raise ConfigError(str(err)) from None


def listener_secret(env: Mapping[str, str]) -> str | None:
    """FORWARD_SECRET alone, for `relay listen`, which reads no other relay setting."""
    return whsec_secret(env_text(env, "FORWARD_SECRET"), "FORWARD_SECRET")
