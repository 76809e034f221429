"""The sandbox's RSA signing key (one per database), callback JWTs and their JWKS."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import Connection, Engine, select

from app.sandbox.tables import insert_if_absent, signing_keys
from app.store.engine import read, write

ALGORITHM = "RS256"
SIGNATURE_HEADER = "Zapier-Callback-Signature"
TOKEN_LIFETIME_SECONDS = 300  # Zapier's callback signatures are valid five minutes
_SLOT = "current"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    def sign_callback(self, run_id: str, now: float) -> str:
        issued = int(now)
        claims = {"iat": issued, "exp": issued + TOKEN_LIFETIME_SECONDS, "run_id": run_id}
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def jwks(self) -> dict:
        jwk = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        # RFC 7517 advises against key_ops beside use; "use": "sig" is what JWKS clients filter on.
        jwk.pop("key_ops", None)
        jwk.update(kid=self.kid, use="sig", alg=ALGORITHM)
        return {"keys": [jwk]}


def load_or_create_key(engine: Engine, now: float) -> SigningKey:
    """Insert a fresh key unless one is stored, then use whatever is stored: every process
    that races here ends up signing with the same key."""
    with read(engine) as conn:
        stored = _stored(conn)
    if stored is None:
        # Generated outside the write transaction: it takes tens of milliseconds.
        pem, kid = _new_key()
        with write(engine) as conn:
            conn.execute(
                insert_if_absent(
                    conn, signing_keys, slot=_SLOT, kid=kid, private_pem=pem, created_at=now
                )
            )
            stored = _stored(conn)
    kid, pem = stored
    private_key = serialization.load_pem_private_key(pem.encode(), password=None)
    return SigningKey(kid=kid, private_key=private_key)


def _stored(conn: Connection) -> tuple[str, str] | None:
    row = conn.execute(
        select(signing_keys.c.kid, signing_keys.c.private_pem).where(signing_keys.c.slot == _SLOT)
    ).first()
    return (row.kid, row.private_pem) if row else None


def _new_key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # A stable id derived from the key itself, so a verifier can pick it from the key set.
    return pem, hashlib.sha256(public_der).hexdigest()[:16]
