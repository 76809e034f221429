"""Stored Zapier accounts for tests: sealed tokens under a fixed test key, and JWTs with claims."""

from __future__ import annotations

import json
import time

import jwt

from app.accounts.crypto import TokenBox, fingerprint
from app.store import accounts_repo
from app.store.engine import read, write

# A Fernet key for tests only (RELAY_ENCRYPTION_KEYS of every relay these tests start).
TEST_KEY = "cmVsYXktdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZmc="


def claims_token(rate_limit=None, subject: str = "user-1") -> str:
    """A JWT as a white-label token is: upstream reads its rate_limit claim; signed with a test
    secret (the relay never verifies its own credential)."""
    claims: dict = {"sub": subject, "iat": 1_700_000_000}
    if rate_limit is not None:
        claims["rate_limit"] = rate_limit
    return jwt.encode(claims, "test-signing-secret-of-32-bytes!", algorithm="HS256")


def store_account(engine, account_id: str, token: str, overrides: dict | None = None) -> None:
    now = time.time()
    with write(engine) as conn:
        accounts_repo.insert_account(
            conn,
            {
                "id": account_id,
                "token_ciphertext": TokenBox((TEST_KEY,)).seal(token),
                "token_fingerprint": fingerprint(token),
                "budget_overrides_json": json.dumps(overrides or {}),
                "state": "active",
                "created_at": now,
                "updated_at": now,
            },
        )


def replace_token(engine, account_id: str, token: str) -> None:
    """What PATCH /v1/accounts/{id} with a token does: sealed, active again (work resumes)."""
    with write(engine) as conn:
        accounts_repo.update_account(
            conn,
            account_id,
            {
                "token_ciphertext": TokenBox((TEST_KEY,)).seal(token),
                "token_fingerprint": fingerprint(token),
                "state": "active",
                "unauthorized_at": None,
                "unauthorized_detail": None,
                "updated_at": time.time(),
            },
        )


def account_row(engine, account_id: str) -> dict:
    with read(engine) as conn:
        return accounts_repo.get_account(conn, account_id)
