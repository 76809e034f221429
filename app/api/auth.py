"""Client API keys: `Authorization: Bearer <key>` from RELAY_API_KEYS, compared in constant time."""

from __future__ import annotations

import hmac

from flask import Blueprint, request

from app.api.context import settings
from app.errors import Unauthenticated

CHALLENGE = {"WWW-Authenticate": "Bearer"}


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
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthenticated(
            "unauthorized", "Send Authorization: Bearer <key>.", headers=CHALLENGE
        )
    if not key_is_valid(presented.strip(), settings.relay_api_keys):
        raise Unauthenticated("unauthorized", "Unknown API key.", headers=CHALLENGE)


def client_blueprint(name: str, import_name: str, url_prefix: str) -> Blueprint:
    """A blueprint of the client API: each of its requests shows a key first."""
    bp = Blueprint(name, import_name, url_prefix=url_prefix)
    bp.before_request(lambda: require_client(settings()))
    return bp
