"""Callback Relay: the Flask app factory."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from flask import Flask

from app.api import access_path, context, errors
from app.config.settings import load_settings
from app.observability.logs import configure_logging

log = logging.getLogger("app")


def create_app(test_config: Mapping[str, str] | None = None) -> Flask:
    """Defaults, then the environment, then test overrides (environment-style names)."""
    configure_logging()
    env = dict(os.environ)
    env.update(test_config or {})
    settings = load_settings(env)

    app = Flask(__name__, instance_relative_config=False)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    if settings.trusted_proxies:
        # Only the last N hops are believed; by default X-Forwarded-* is ignored entirely.
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
    errors.init_app(app)
    access_path.init_app(app)
    context.init_app(app, settings)
    from app.api import init_app as init_api

    init_api(app, settings)
    from app.console import init_app as init_console

    init_console(app, settings)
    if settings.sandbox:
        from app import sandbox

        sandbox.init_app(app, settings, env)
    _announce(settings)
    return app


def _announce(settings) -> None:
    """One quiet line per web process: the start-up banner (mode, warnings) is printed once, by
    gunicorn's master or `relay run` (app/cli/banner.py), not by each process it forks."""
    log.debug("app ready in %s mode, pid %d", settings.mode, os.getpid())
