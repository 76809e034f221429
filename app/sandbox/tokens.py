"""Tokens as upstream sees them: each its own rate limit (from its JWT's `rate_limit` claim, as
the seeds describe), and revocation (an admin call) that makes one answer 401.

Read independently of the relay's own reading (app/upstream/account_limits.py), so a test
against the sandbox checks the relay rather than agreeing with it by construction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jwt
from sqlalchemy import Connection, delete, select

from app.accounts.crypto import fingerprint
from app.sandbox.tables import insert_if_absent, revoked_tokens

# "Default: 200 ... Maximum via limit_override: 1000" (run POSTs); 600 and 3000 for GETs.
OVERRIDE_CAPS = {"get": 3000, "run": 1000}

__all__ = ["fingerprint", "is_revoked", "limit_for", "restore", "revoke", "revoked"]


def limit_for(token: str, bucket: str, knobs: Mapping[str, Any]) -> int | None:
    """The token's limit in `bucket`: None when exempt, its limit_override (capped) when it has
    one, else the get_limit / run_limit knob."""
    claim = _rate_limit_claim(token)
    if claim.get("exempt") is True:
        return None
    override = claim.get("limit_override")
    if isinstance(override, int) and not isinstance(override, bool) and override >= 1:
        return min(override, OVERRIDE_CAPS[bucket])
    return knobs["get_limit"] if bucket == "get" else knobs["run_limit"]


def _rate_limit_claim(token: str) -> dict:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    claim = claims.get("rate_limit") if isinstance(claims, dict) else None
    if isinstance(claim, str):
        try:
            claim = json.loads(claim)
        except ValueError:
            return {}
    return claim if isinstance(claim, dict) else {}


def revoke(conn: Connection, token_fingerprint: str, now: float) -> None:
    conn.execute(insert_if_absent(conn, revoked_tokens, token=token_fingerprint, revoked_at=now))


def restore(conn: Connection, token_fingerprint: str) -> bool:
    stmt = delete(revoked_tokens).where(revoked_tokens.c.token == token_fingerprint)
    return conn.execute(stmt).rowcount == 1


def is_revoked(conn: Connection, token_fingerprint: str) -> bool:
    stmt = select(revoked_tokens.c.token).where(revoked_tokens.c.token == token_fingerprint)
    return conn.execute(stmt).first() is not None


def revoked(conn: Connection) -> list[str]:
    stmt = select(revoked_tokens.c.token).order_by(revoked_tokens.c.token)
    return list(conn.execute(stmt).scalars())
