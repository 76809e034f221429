"""The upstream simulator: Actions API v1 and Partner API v2 under /sandbox, with fault knobs."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Blueprint, Flask

from app.config.settings import Settings, load_settings
from app.sandbox import admin, routes
from app.sandbox.http_answers import EXTENSION_KEY, init_error_handlers
from app.sandbox.service import Sandbox

URL_PREFIX = "/sandbox"
MAX_BODY_BYTES = 5 * 1024 * 1024

__all__ = ["URL_PREFIX", "Sandbox", "create_sandbox_app", "init_app"]


def init_app(app: Flask, settings: Settings, env: Mapping[str, str] | None = None) -> Sandbox:
    """Serve the sandbox under /sandbox on `app`; knobs default from SANDBOX_* in `env`
    (the process environment unless given). Nothing touches the database until a request."""
    sandbox = Sandbox(settings.sandbox_database_url, os.environ if env is None else env)
    _install(app, sandbox)
    return sandbox


def create_sandbox_app(
    settings_or_env_mapping: Settings | Mapping[str, str] | None = None,
) -> Flask:
    """A Flask app serving only the sandbox, also under /sandbox, so the upstream base URL is
    always http://host:port/sandbox. Given a mapping, it is the environment to read
    (SANDBOX_DATABASE_URL and SANDBOX_<KNOB>); `app.extensions["sandbox"].close()` stops it."""
    if isinstance(settings_or_env_mapping, Settings):
        database_url, env = settings_or_env_mapping.sandbox_database_url, os.environ
    else:
        env = os.environ if settings_or_env_mapping is None else settings_or_env_mapping
        database_url = env.get("SANDBOX_DATABASE_URL") or load_settings(env).sandbox_database_url
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    init_error_handlers(app)
    _install(app, Sandbox(database_url, env))
    return app


def _install(app: Flask, sandbox: Sandbox) -> None:
    app.extensions[EXTENSION_KEY] = sandbox
    # A fresh parent per app: the module-level child blueprints can then be mounted on
    # any number of apps (the relay's, a standalone one, one per test).
    parent = Blueprint("sandbox", __name__, url_prefix=URL_PREFIX)
    parent.register_blueprint(routes.bp)
    parent.register_blueprint(admin.bp)
    app.register_blueprint(parent)
