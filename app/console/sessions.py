"""The console's session: a signed cookie (HttpOnly, SameSite=Strict, Secure under https) with
an absolute expiry, bound to the API key it was opened with.

The signing key is derived from RELAY_SECRET, so a cookie made under another secret does not
verify. The cookie holds a fingerprint of the key, never the key: a key taken out of
RELAY_API_KEYS ends every session opened with it at the next request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface

from app.config.settings import Settings

COOKIE_NAME = "relay_console"
COOKIE_PATH = "/console"
DEFAULT_LIFETIME_SECONDS = 8 * 3600
SIGNED_IN, EXPIRES, CSRF = "key", "exp", "csrf"


def derive(secret: str, purpose: str) -> str:
    """A key of its own for each use of RELAY_SECRET: the console's never signs anything else."""
    return hmac.new(
        secret.encode(), f"relay-console:{purpose}".encode(), hashlib.sha256
    ).hexdigest()


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, Secure when the request came over https or the relay's
    public URL is https (behind a proxy that terminates TLS without TRUSTED_PROXIES)."""

    def __init__(self, public_https: bool):
        self.public_https = public_https

    def get_cookie_secure(self, app: Flask) -> bool:
        return self.public_https or request.is_secure


def configure(app: Flask, settings: Settings, lifetime: int = DEFAULT_LIFETIME_SECONDS) -> None:
    app.secret_key = derive(settings.relay_secret, "session")
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_PATH=COOKIE_PATH,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        # The signature's own timestamp refuses an older cookie; EXPIRES makes it absolute.
        PERMANENT_SESSION_LIFETIME=lifetime,
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    app.session_interface = ConsoleSessionInterface(settings.public_base_url.startswith("https://"))


def key_fingerprint(settings: Settings, key: str) -> str:
    return hmac.new(
        derive(settings.relay_secret, "key").encode(), key.encode(), "sha256"
    ).hexdigest()


def matching_key(settings: Settings, presented: str) -> str | None:
    """The fingerprint of the configured key `presented` is, compared with every key."""
    found = None
    for key in settings.relay_api_keys:
        if hmac.compare_digest(presented.encode(), key.encode()):
            found = key
    return key_fingerprint(settings, found) if found is not None else None


def signed_in(settings: Settings, now: float | None = None) -> bool:
    """A session opened with a key that is still configured, and not yet expired."""
    now = time.time() if now is None else now
    fingerprint, expires = session.get(SIGNED_IN), session.get(EXPIRES)
    if not isinstance(fingerprint, str) or not isinstance(expires, int | float):
        return False
    if expires <= now:
        return False
    current = [key_fingerprint(settings, key) for key in settings.relay_api_keys]
    return any(hmac.compare_digest(fingerprint, known) for known in current)


def open_session(fingerprint: str, lifetime: int) -> None:
    """A fresh session (a new CSRF token too: one from before the sign-in is not carried)."""
    session.clear()
    session.permanent = True
    session[SIGNED_IN] = fingerprint
    session[EXPIRES] = int(time.time()) + lifetime
    session[CSRF] = secrets.token_urlsafe(32)


def close_session() -> None:
    session.clear()


def csrf_token() -> str:
    """This session's CSRF token, made on first use (the sign-in form needs one already)."""
    token = session.get(CSRF)
    if not isinstance(token, str):
        token = session[CSRF] = secrets.token_urlsafe(32)
        session.permanent = True
    return token
