"""Checks before a process starts serving: settings, the port, the database and its schema.

Each failure is one line on stderr and an exit code: 2 for a setting to fix, 1 otherwise.
"""

from __future__ import annotations

import errno
import logging
import re
import socket
import sys

from app.config.settings import ConfigError, Settings, load_settings
from app.config.values import database_address

log = logging.getLogger("app")
CONFIG_EXIT = 2
# psycopg says where it tried before why; the banner line names the address itself.
_REASON_PREFIX = re.compile(r"^connection failed: (connection to server at .*? failed: )?")


def fail(message: str, code: int) -> SystemExit:
    print(f"relay: {message}", file=sys.stderr, flush=True)
    return SystemExit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as err:
        raise fail(f"configuration error: {err}", CONFIG_EXIT) from None


def port_problem(host: str, port: int) -> str | None:
    """Why host:port cannot be listened on (one line naming the variables), or None."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As gunicorn binds: a port left in TIME_WAIT by the last run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                return (
                    f"PORT: {host}:{port} is already in use (another relay?); choose another PORT"
                )
            return f"BIND_HOST: cannot listen on {host}:{port}: {err.strerror or err}"
    return None


def exit_unless_port_free(settings: Settings) -> None:
    problem = port_problem(settings.bind_host, settings.port)
    if problem:
        raise fail(f"configuration error: {problem}", CONFIG_EXIT)


def database_problem(url: str, err: BaseException, name: str = "DATABASE_URL") -> str:
    """One line for a database that cannot be reached: the variable, the address, the reason."""
    cause = getattr(err, "orig", None) or err
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    reason = _REASON_PREFIX.sub("", lines[0]).replace("FATAL:  ", "")
    return f"{name}: cannot reach the database at {database_address(url)}: {reason}"


def exit_unless_schema_current(settings: Settings, *, web: bool = True) -> None:
    """Refuse to start a web or worker process, with one line, unless the schema is at head.
    An unreachable database is not a stale one: the web starts, says so in one line, and
    /readyz answers 503 until the database is back; a worker stops with that line (its
    service manager starts it again)."""
    from app.store.engine import DatabaseError
    from app.store.schema_version import SchemaNotCurrent, check_url

    try:
        check_url(settings.database_url)
    except SchemaNotCurrent as err:
        raise fail(str(err), 1) from None
    except DatabaseError as err:
        problem = database_problem(settings.database_url, err)
        if not web:
            raise fail(problem, 1) from None
        log.warning("%s; schema not checked, /readyz answers 503 until it is back", problem)
