"""The operator console: server-rendered pages under /console, signed in with an API key."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, Flask, request, url_for

from app.config.settings import Settings
from app.console import (
    accounts_pages,
    auth_pages,
    deliveries_pages,
    guards,
    overview_pages,
    refusals,
    runs_pages,
    sessions,
    targets_pages,
    watches_pages,
)
from app.console.formatting import FILTERS

STATIC = Path(__file__).parent / "static"
PAGES = (
    auth_pages,
    overview_pages,
    runs_pages,
    deliveries_pages,
    targets_pages,
    watches_pages,
    accounts_pages,
)
NAV = (
    ("console.overview.show", "Overview"),
    ("console.runs.index", "Runs"),
    ("console.deliveries.index", "Deliveries"),
    ("console.targets.index", "Targets"),
    ("console.accounts.index", "Accounts"),
    ("console.watches.index", "Zap watches"),
)


def init_app(app: Flask, settings: Settings) -> None:
    app.config.setdefault("CONSOLE_SESSION_SECONDS", sessions.DEFAULT_LIFETIME_SECONDS)
    sessions.configure(app, settings, app.config["CONSOLE_SESSION_SECONDS"])
    app.register_blueprint(console_blueprint(settings))


def console_blueprint(settings: Settings) -> Blueprint:
    """A parent blueprint per app: its hooks and error pages cover every page under it."""
    bp = Blueprint(
        "console",
        __name__,
        url_prefix="/console",
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    bp.before_request(guards.check_csrf)
    bp.before_request(guards.require_sign_in)
    bp.after_request(guards.add_headers)
    refusals.init_blueprint(bp)
    for page in PAGES:
        bp.register_blueprint(page.bp)
    for name, function in FILTERS.items():
        bp.add_app_template_filter(function, name)
    versions = asset_versions()

    @bp.context_processor
    def _page_context():
        return {
            "sandbox": settings.sandbox,
            "console_open": settings.api_open,
            "nav": NAV,
            "csrf_token": sessions.csrf_token,
            "asset": lambda name: url_for("console.static", filename=name, v=versions[name]),
            "current_section": request.blueprints[0] if request.blueprints else "",
        }

    return bp


def asset_versions() -> dict[str, str]:
    """A short hash of each static file, in its URL: a changed file is a new URL, so the old
    one may be cached for good."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in STATIC.iterdir()
        if path.is_file()
    }
