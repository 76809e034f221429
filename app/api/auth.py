"""Client API keys: `Authorization: Bearer <key>` from RELAY_API_KEYS, compared in constant time."""

from __future__ import annotations

import hmac

from flask import request

from app.api.errors import ApiError


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
        raise ApiError(
            401,
            "unauthorized",
            "Send Authorization: Bearer <key>.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not key_is_valid(presented.strip(), settings.relay_api_keys):
        raise ApiError(
            401, "unauthorized", "Unknown API key.", headers={"WWW-Authenticate": "Bearer"}
        )
