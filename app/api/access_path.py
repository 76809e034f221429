"""The path the access log shows, made from the route Flask matched: secrets in it redacted.

A regex over the raw path misses spellings such as `%2F`; the matched route knows which of
its parts is a callback token. gunicorn's access logger (app/observability/access_log.py)
reads the result from the WSGI environ.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask, request

from app.observability.access_log import ENVIRON_KEY, REDACTED, redact_unmatched

SECRET_ARGS = frozenset({"token"})


def loggable_path() -> str:
    """The request path with every secret route argument replaced by [redacted]."""
    rule, args = request.url_rule, request.view_args or {}
    if rule is None:
        return redact_unmatched(request.path)
    shown = {name: REDACTED if name in SECRET_ARGS else value for name, value in args.items()}
    path = rule.rule
    for name, value in shown.items():
        path = path.replace(f"<{name}>", quote(str(value), safe="[]")).replace(
            f"<path:{name}>", quote(str(value), safe="/[]")
        )
    return path


def init_app(app: Flask) -> None:
    """Registered first, so it runs before any hook that may refuse the request."""

    @app.before_request
    def _remember_loggable_path():
        request.environ[ENVIRON_KEY] = loggable_path()
