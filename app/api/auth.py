"""Client API keys: `Authorization: Bearer <key>` from RELAY_API_KEYS, compared in constant time."""

from __future__ import annotations

import hmac

from flask import Blueprint, Flask, current_app, request

from app.api.context import settings
from app.api.key_throttle import FailedKeyThrottle
from app.errors import TooManyRequests, Unauthenticated

CHALLENGE = {"WWW-Authenticate": "Bearer"}
THROTTLE_KEY = "relay.key_throttle"


def init_app(app: Flask) -> None:
    """One throttle per app (so per web process): see app/api/key_throttle.py."""
    app.extensions[THROTTLE_KEY] = FailedKeyThrottle()


def key_is_valid(presented: str, keys: tuple[str, ...]) -> bool:
    # Compare against every key, always: the time taken does not depend on which one matched.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented.encode(), key.encode())
    return matched


def require_client(settings) -> None:
    """A before_request hook for client blueprints."""
    if settings.api_open:
        return
    require_bearer(settings.relay_api_keys, "Unknown API key.")


def require_bearer(keys: tuple[str, ...], unknown: str) -> None:
    """`Authorization: Bearer <one of keys>`, or 401; 429 for an address guessing too much."""
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthenticated(
            "unauthorized", "Send Authorization: Bearer <key>.", headers=CHALLENGE
        )
    if key_is_valid(presented.strip(), keys):
        return
    address = request.remote_addr or "unknown"
    throttle = current_app.extensions[THROTTLE_KEY]
    wait = throttle.wait_for(address)
    if wait:
        raise TooManyRequests(
            "too_many_requests",
            f"Too many wrong keys from this address; retry in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
    throttle.failed(address)
    raise Unauthenticated("unauthorized", unknown, headers=CHALLENGE)


def client_blueprint(name: str, import_name: str, url_prefix: str) -> Blueprint:
    """A blueprint of the client API: each of its requests shows a key first."""
    bp = Blueprint(name, import_name, url_prefix=url_prefix)
    bp.before_request(lambda: require_client(settings()))
    return bp
