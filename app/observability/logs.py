"""Log lines on stdout: JSON (default) or text, each with its run id, known secrets masked."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections.abc import Iterable, Mapping

from pythonjsonlogger.json import JsonFormatter

from app.config import processes
from app.config.settings import SANDBOX_RELAY_SECRET
from app.observability.run_context import RunIdFilter

MASK = "[redacted]"
SECRET_VARIABLES = ("RELAY_SECRET", "FORWARD_SECRET", "ZAPIER_ACCESS_TOKEN")
MIN_SECRET_LENGTH = 8  # a shorter configured value would mask ordinary words
# Secrets no process knows in advance, caught by their shape: webhook secrets made through the
# API, per-run callback tokens (base64url, in callback paths) and bearer credentials.
SECRET_SHAPES = (
    (re.compile(r"whsec_[A-Za-z0-9+/=]+"), MASK),
    (re.compile(r"(/callbacks/[^/\s?\"\\]+/)[A-Za-z0-9_-]+"), rf"\g<1>{MASK}"),
    (re.compile(r"(?i)(bearer\s+)[^\s\"\\]+"), rf"\g<1>{MASK}"),
    # A JWT (a white-label or user token of an account), whoever wrote it.
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MASK),
)
# Accounts' tokens this process has seen (app/accounts): stored ones are known only when read.
# A tuple swapped whole, so formatting threads never see it change under them.
_learned: tuple[str, ...] = ()
_learned_lock = threading.Lock()


# Learned values are masked in every later line of the process, so a short one that happens
# to be a word ("callback") would mangle logger names and paths: real tokens are long.
MIN_LEARNED_LENGTH = 16


def remember_secret(value: str) -> None:
    """Mask `value` (and its JSON spelling) in every later line of this process."""
    global _learned
    if len(value) < MIN_LEARNED_LENGTH or value in _learned:
        return
    with _learned_lock:
        found = {*_learned, value, json.dumps(value)[1:-1]}
        _learned = tuple(sorted(found, key=len, reverse=True))


def log_format(env: Mapping[str, str] | None = None) -> str:
    """LOG_FORMAT, read (and checked) by the settings layer; raises ConfigError."""
    return processes.log_format(os.environ if env is None else env)


def log_level(env: Mapping[str, str] | None = None) -> str:
    """LOG_LEVEL, read (and checked) by the settings layer; raises ConfigError."""
    return processes.log_level(os.environ if env is None else env)


def known_secrets(env: Mapping[str, str]) -> tuple[str, ...]:
    """The configured secret values, longest first so that no part of one is left showing."""
    values = [env.get(name, "") for name in SECRET_VARIABLES]
    values += env.get("RELAY_API_KEYS", "").split(",")
    values += env.get("RELAY_ENCRYPTION_KEYS", "").split(",")
    values.append(SANDBOX_RELAY_SECRET)
    found = {value.strip() for value in values if len(value.strip()) >= MIN_SECRET_LENGTH}
    # A JSON line holds a value as JSON escapes it; mask that spelling too.
    found |= {json.dumps(value)[1:-1] for value in found}
    return tuple(sorted(found, key=len, reverse=True))


class SecretMask:
    """A safety net over finished lines; the code itself never passes secrets to a logger."""

    def __init__(self, secrets: Iterable[str] | None = None):
        self.secrets = tuple(known_secrets(os.environ) if secrets is None else secrets)

    def __call__(self, line: str) -> str:
        for secret in (*self.secrets, *_learned):
            if secret in line:
                line = line.replace(secret, MASK)
        for pattern, replacement in SECRET_SHAPES:
            line = pattern.sub(replacement, line)
        return line


class JsonLineFormatter(JsonFormatter):
    """One JSON object a line: level, logger, message, process, extras (run_id), timestamp."""

    def __init__(self, secrets: Iterable[str] | None = None):
        super().__init__(
            "%(levelname)s %(name)s %(message)s %(process)d",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
        )
        self.mask = SecretMask(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return self.mask(super().format(record))


class TextLineFormatter(logging.Formatter):
    """The classic line, with ` run_id=...` at its end when the record is about a run."""

    def __init__(self, secrets: Iterable[str] | None = None):
        super().__init__("%(asctime)s %(levelname)s %(process)d %(name)s %(message)s")
        self.mask = SecretMask(secrets)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        run_id = getattr(record, "run_id", None)
        return f"{line} run_id={run_id}" if run_id else line

    def format(self, record: logging.LogRecord) -> str:
        return self.mask(super().format(record))


FORMATTERS = {"json": JsonLineFormatter, "text": TextLineFormatter}


def build_handler(fmt: str, stream) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(FORMATTERS[fmt]())
    handler.addFilter(RunIdFilter())
    return handler


def configure_logging() -> None:
    """Once per process (web worker, worker, CLI), from LOG_FORMAT and LOG_LEVEL."""
    root = logging.getLogger()
    if root.handlers:  # the host (pytest, gunicorn's logconfig_dict) already configured it
        return
    fmt, level = log_format(), log_level()
    root.setLevel(level)
    root.addHandler(build_handler(fmt, sys.stdout))


def gunicorn_logconfig(env: Mapping[str, str] | None = None) -> dict:
    """gunicorn's dictConfig: its error and access logs and the app's, one stdout handler."""
    level = log_level(env)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"relay": {"()": FORMATTERS[log_format(env)]}},
        "filters": {"run_id": {"()": RunIdFilter}, "sandbox_access": {"()": SandboxAccess}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "relay",
                "filters": ["run_id"],
            }
        },
        "root": {"level": level, "handlers": ["stdout"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["stdout"], "propagate": False},
            "gunicorn.access": {
                "level": "INFO",
                "handlers": ["stdout"],
                "propagate": False,
                "filters": ["sandbox_access"],
            },
            # Only consulted by SandboxAccess: LOG_LEVEL=debug shows the simulator's traffic.
            SandboxAccess.LOGGER: {"level": level},
        },
    }


class SandboxAccess(logging.Filter):
    """The relay's calls to its own simulator (sandbox mode) are not the user's traffic: they
    are logged under their own name, at DEBUG, so the default access log shows only the rest."""

    LOGGER = "gunicorn.access.sandbox"
    PREFIX = "/sandbox"

    def filter(self, record: logging.LogRecord) -> bool:
        path = str(getattr(record, "path", None) or "")
        if path != self.PREFIX and not path.startswith(self.PREFIX + "/"):
            return True
        record.name, record.levelno, record.levelname = self.LOGGER, logging.DEBUG, "DEBUG"
        return logging.getLogger(self.LOGGER).isEnabledFor(logging.DEBUG)
