"""Which token an account's upstream calls carry, and what upstream's refusal of it does.

"default" is ZAPIER_ACCESS_TOKEN (in sandbox mode without one, the token "sandbox"): virtual,
never stored (app/accounts/selection.py); without either it is a stored account like the others.
A stored token is sealed (app/accounts/crypto.py) and opened once per process and row version,
so a token rotated by PATCH applies at the next call.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from app.accounts.crypto import EncryptionUnavailable, TokenBox, TokenUnreadable, fingerprint
from app.accounts.selection import DEFAULT_ACCOUNT, virtual_default_origin
from app.delivery import ops_events
from app.observability.logs import remember_secret
from app.schemas.timestamps import iso
from app.store import accounts_repo, runs_repo
from app.store.engine import read, write

SANDBOX_TOKEN = "sandbox"  # noqa: S105 - what the sandbox accepts, never a real credential
# last_used_at is written at most this often per account and process.
TOUCH_SECONDS = 60.0


class AccountUnavailable(Exception):
    """The account's token cannot be had; the message says why (never the token)."""


class UnknownAccount(AccountUnavailable):
    """No such account (deleted while it had work: DELETE refuses that, so only a race)."""


class UnreadableToken(AccountUnavailable):
    """No RELAY_ENCRYPTION_KEYS key opens the stored token (a key removed too soon)."""


@dataclass(frozen=True)
class Credentials:
    """What one upstream call needs to know about its account."""

    account_id: str
    token: str
    fingerprint: str
    overrides_json: str | None = None
    state: str = "active"  # active | unauthorized
    unauthorized_detail: str | None = None
    stored: bool = False  # False: the virtual "default" (refusals of it stay refusals)

    @property
    def active(self) -> bool:
        return self.state == "active"


class AccountTokens:
    """Per process: a cache of opened tokens, keyed by the row's updated_at and ciphertext."""

    def __init__(self, engine, settings):
        self.engine = engine
        self._default: Credentials | None = None
        if virtual_default_origin(settings) is not None:
            token = settings.zapier_access_token or SANDBOX_TOKEN
            self._default = Credentials(DEFAULT_ACCOUNT, token, fingerprint(token))
        self._box = TokenBox(settings.relay_encryption_keys)
        self._lock = threading.Lock()
        self._opened: dict[str, tuple[tuple, str]] = {}
        self._touched: dict[str, float] = {}

    def token_for(self, account_id: str) -> str:
        """The account's token; raises UnknownAccount or UnreadableToken."""
        return self.credentials(account_id).token

    def credentials(self, account_id: str) -> Credentials:
        """Token, budget overrides and state of the account, as stored right now."""
        if account_id == DEFAULT_ACCOUNT and self._default is not None:
            return self._default
        with read(self.engine) as conn:
            row = accounts_repo.get_account(conn, account_id)
        if row is None:
            raise UnknownAccount(f"account {account_id} does not exist")
        return Credentials(
            account_id,
            self._open(row),
            row["token_fingerprint"],
            row["budget_overrides_json"],
            row["state"],
            row["unauthorized_detail"],
            stored=True,
        )

    def touch(self, credentials: Credentials, now: float | None = None) -> None:
        """Note the token's use (last_used_at), at most once a minute per process."""
        if not credentials.stored:
            return
        now = time.time() if now is None else now
        with self._lock:
            if now - self._touched.get(credentials.account_id, 0.0) < TOUCH_SECONDS:
                return
            self._touched[credentials.account_id] = now
        with write(self.engine) as conn:
            accounts_repo.update_account(conn, credentials.account_id, {"last_used_at": now})

    def refused(self, credentials: Credentials, detail: str, now: float | None = None) -> bool:
        """Upstream refused this token: the account is unauthorized (its work waits) and the
        operator is told once per token; False if it was so already, or the token changed."""
        if not credentials.stored:
            return False
        now = time.time() if now is None else now
        with write(self.engine) as conn:
            marked = accounts_repo.mark_unauthorized(
                conn, credentials.account_id, credentials.fingerprint, detail, now
            )
            if marked:
                reason = f"account {credentials.account_id} unauthorized: {detail}"
                runs_repo.hold_account_runs(conn, credentials.account_id, reason)
                data = {
                    "account": credentials.account_id,
                    "token_fingerprint": credentials.fingerprint,
                    "unauthorized_at": iso(now),
                    "detail": detail,
                }
                dedupe = f"{credentials.account_id}:{credentials.fingerprint}"
                ops_events.emit(conn, ops_events.ACCOUNT_UNAUTHORIZED, data, dedupe, now)
        return marked

    def _open(self, row: dict) -> str:
        version = (row["updated_at"], row["token_ciphertext"])
        cached = self._opened.get(row["id"])
        if cached is not None and cached[0] == version:
            return cached[1]
        try:
            token = self._box.open(row["token_ciphertext"])
        except (TokenUnreadable, EncryptionUnavailable) as err:
            raise UnreadableToken(
                f"the token of account {row['id']} cannot be read: {err}"
            ) from None
        remember_secret(token)  # should anything ever print it, this process masks it
        with self._lock:
            self._opened[row["id"]] = (version, token)
        return token
