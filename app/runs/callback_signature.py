"""Verifying the `Zapier-Callback-Signature` JWT against ZAPIER_CALLBACK_JWKS_URL's keys."""

from __future__ import annotations

import threading

import jwt

from app.errors import Unauthenticated, Unavailable

HEADER = "Zapier-Callback-Signature"
LEEWAY_SECONDS = 5
_clients: dict[str, jwt.PyJWKClient] = {}
_lock = threading.Lock()


def _client(url: str) -> jwt.PyJWKClient:
    with _lock:
        if url not in _clients:
            _clients[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=10)
        return _clients[url]


def verify_callback_signature(jwks_url: str, headers) -> dict:
    """The JWT's claims; a missing, forged or expired signature is Unauthenticated."""
    token = headers.get(HEADER)
    if not token:
        raise Unauthenticated("invalid_signature", f"Missing {HEADER} header.")
    try:
        key = _client(jwks_url).get_signing_key_from_jwt(token)
        return jwt.decode(
            token,
            key.key,
            algorithms=["RS256", "ES256"],
            options={"require": ["iat", "exp"]},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.PyJWKClientConnectionError:
        # Our side could not fetch the keys: a 5xx, so upstream retries and polling follows.
        raise Unavailable(
            "jwks_unavailable", "The callback signing keys are unreachable."
        ) from None
    except jwt.PyJWTError as err:
        raise Unauthenticated("invalid_signature", f"Bad {HEADER}: {err}") from None
