"""Per-run callback tokens: an HMAC of the run id with RELAY_SECRET, compared in constant time."""

import base64
import hashlib
import hmac


def callback_token(secret: str, run_id: str) -> str:
    digest = hmac.new(secret.encode(), f"callback:{run_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_matches(secret: str, run_id: str, token: str) -> bool:
    return hmac.compare_digest(callback_token(secret, run_id).encode(), token.encode())


def callback_path(secret: str, run_id: str) -> str:
    return f"/callbacks/{run_id}/{callback_token(secret, run_id)}"
