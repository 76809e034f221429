"""Hooks on every console request: CSRF on each POST, sign-in, and the security headers."""

from __future__ import annotations

import hmac
from urllib.parse import quote

from flask import current_app, redirect, request, session, url_for
from werkzeug.exceptions import Forbidden

from app.console import sessions
from app.console.context import settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_ENDPOINTS = frozenset({"console.auth.sign_in", "console.auth.sign_in_form", "console.static"})
# No inline script or style anywhere: the pages, and the SVG charts in them, use none.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
STATIC_MAX_AGE = 365 * 86400  # assets are addressed by their content's hash


class CsrfRefused(Forbidden):
    description = (
        "This form was not sent by a console page of this session (its CSRF token is missing "
        "or stale). Reload the page and try again."
    )


def check_csrf() -> None:
    if request.method in SAFE_METHODS:
        return
    expected = session.get(sessions.CSRF)
    presented = request.form.get("csrf_token", "")
    if not isinstance(expected, str) or not hmac.compare_digest(
        presented.encode(), expected.encode()
    ):
        raise CsrfRefused()


def require_sign_in():
    if request.endpoint in OPEN_ENDPOINTS or console_open():
        return None
    if sessions.signed_in(settings()):
        return None
    # Back to this page after signing in; a POST's form is lost, so back to where it was sent.
    back = request.full_path if request.method in SAFE_METHODS else request.path
    return redirect(url_for("console.auth.sign_in_form", next=back.rstrip("?")), code=303)


def console_open() -> bool:
    """Sandbox mode with no RELAY_API_KEYS: the client API is open, and so is the console."""
    return settings().api_open


def add_headers(response):
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint == "console.static" and request.args.get("v"):
        headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}, immutable"
    elif request.endpoint != "console.static":
        # Pages hold run results and, once, a new secret: no cache keeps them.
        headers["Cache-Control"] = "no-store"
    return response


def safe_next(target: str | None) -> str:
    """Only a path inside the console: never another host (an open redirect) or scheme."""
    home = url_for("console.overview.show")
    if not target or not target.startswith(sessions.COOKIE_PATH):
        return home
    if target.startswith("//") or "\\" in target or any(ord(c) < 32 for c in target):
        return home
    return quote(target, safe="/?=&%-_.~:+")


def lifetime() -> int:
    return current_app.config["CONSOLE_SESSION_SECONDS"]
