"""Tokens at rest: MultiFernet under RELAY_ENCRYPTION_KEYS (the first key encrypts, every key
decrypts), so keys rotate by putting a new one first and re-encrypting."""

from __future__ import annotations

import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class EncryptionUnavailable(Exception):
    """No RELAY_ENCRYPTION_KEYS: accounts cannot be stored; the message names the setting."""


class TokenUnreadable(Exception):
    """A stored token none of the configured keys decrypts (a key was removed too soon)."""


def parse_keys(raw: tuple[str, ...]) -> tuple[Fernet, ...]:
    """Fernet keys from their url-safe base64 text; ValueError names the bad one by position."""
    keys = []
    for index, text in enumerate(raw, start=1):
        try:
            keys.append(Fernet(text.encode()))
        except (ValueError, TypeError):
            raise ValueError(
                f"key {index} is not a Fernet key (32 url-safe base64-encoded bytes; make one "
                "with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from None
    return tuple(keys)


class TokenBox:
    def __init__(self, keys: tuple[str, ...]):
        fernets = parse_keys(keys)
        self._box = MultiFernet(list(fernets)) if fernets else None

    @property
    def available(self) -> bool:
        return self._box is not None

    def seal(self, token: str) -> str:
        if self._box is None:
            raise EncryptionUnavailable(
                "Storing an account's token needs RELAY_ENCRYPTION_KEYS (one or more Fernet keys)."
            )
        return self._box.encrypt(token.encode()).decode()

    def open(self, sealed: str) -> str:
        if self._box is None:
            raise EncryptionUnavailable("RELAY_ENCRYPTION_KEYS is not set: tokens cannot be read.")
        try:
            return self._box.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise TokenUnreadable("no RELAY_ENCRYPTION_KEYS key decrypts this token") from None

    def reseal(self, sealed: str) -> str:
        """The same token under the first key (MultiFernet.rotate)."""
        if self._box is None:
            raise EncryptionUnavailable("RELAY_ENCRYPTION_KEYS is not set.")
        return self._box.rotate(sealed.encode()).decode()


def fingerprint(token: str) -> str:
    """What the API shows instead of a token: 12 hex digits of its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]
