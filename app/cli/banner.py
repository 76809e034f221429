"""The one start-up banner: where the relay listens, its modes, database and worker, what to try."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from app.config.callbacks import summary
from app.config.processes import local_url
from app.config.settings import Settings
from app.config.values import redacted_url


def relay_command() -> str:
    """How to call `relay` from here: `.venv/bin/relay` in a checkout, else the full path."""
    script = Path(sys.executable).parent / "relay"
    try:
        relative = os.path.relpath(script)
    except ValueError:
        return str(script)
    return relative if not relative.startswith("..") else str(script)


def mode_line(settings: Settings) -> str:
    if not settings.sandbox:
        keys = "a key from RELAY_API_KEYS"
        return f"live: upstream is {settings.zapier_api_base}; the client API needs {keys}"
    access = "open to anyone (no RELAY_API_KEYS)" if settings.api_open else "keyed (RELAY_API_KEYS)"
    return (
        f"sandbox (no ZAPIER_ACCESS_TOKEN): upstream is the built-in simulator at "
        f"{settings.zapier_api_base}; the client API is {access}"
    )


def banner(settings: Settings, worker: str, next_step: str | None = None) -> str:
    """Lines for a person at a terminal; the caller logs them as one record."""
    url = local_url(settings.bind_host, settings.port)
    web = (
        f"gunicorn, {settings.web_concurrency} processes x {settings.web_threads} threads, "
        f"listening on {settings.bind_host}:{settings.port}"
    )
    if next_step is None:
        next_step = (
            f"{relay_command()} listen --port 9000   (then the README's 'Try it' steps)"
            if settings.sandbox
            else f"curl -s {url}/readyz"
        )
    rows = [
        ("mode", mode_line(settings)),
        ("callbacks", summary(settings.callbacks, settings.callbacks_reason)),
        ("database", redacted_url(settings.database_url)),
        ("web", web),
        ("worker", worker),
        ("next", next_step),
        *(("warning", warning) for warning in settings.warnings),
    ]
    lines = [f"Callback Relay is running at {url} in {settings.mode.upper()} MODE"]
    lines += [f"  {name:<10} {text}" for name, text in rows]
    return "\n".join(lines)
