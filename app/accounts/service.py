"""Accounts as the client manages them: tokens go in sealed; fingerprints and state come out."""

from __future__ import annotations

import json
import logging
import time

from app.accounts.crypto import EncryptionUnavailable, TokenBox, TokenUnreadable, fingerprint
from app.accounts.selection import DEFAULT_ACCOUNT, virtual_default_origin
from app.errors import Conflict, NotFound
from app.observability.logs import remember_secret
from app.store import accounts_repo
from app.store.engine import read, write

log = logging.getLogger(__name__)
ACTIVE = "active"


def account_view(row: dict) -> dict:
    """A stored account as the API shows it: never the token, nor its ciphertext."""
    return {
        "id": row["id"],
        "origin": "api",
        "token_fingerprint": row["token_fingerprint"],
        "budget_overrides": json.loads(row["budget_overrides_json"] or "{}"),
        "state": row["state"],
        "unauthorized_at": row["unauthorized_at"],
        "unauthorized_detail": row["unauthorized_detail"],
        "last_used_at": row["last_used_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def virtual_default_view(settings) -> dict | None:
    """`default` when it is ZAPIER_ACCESS_TOKEN or the sandbox's, not a stored row."""
    origin = virtual_default_origin(settings)
    if origin is None:
        return None
    token = settings.zapier_access_token
    return {
        "id": DEFAULT_ACCOUNT,
        "origin": origin,
        "token_fingerprint": fingerprint(token) if token else None,
        "budget_overrides": {},
        "state": ACTIVE,
        "unauthorized_at": None,
        "unauthorized_detail": None,
        "last_used_at": None,
        "created_at": None,
        "updated_at": None,
    }


def list_accounts(services) -> list[dict]:
    with read(services.engine) as conn:
        rows = accounts_repo.list_accounts(conn)
    views = {row["id"]: account_view(row) for row in rows}
    virtual = virtual_default_view(services.settings)
    if virtual:  # it outranks a `default` stored under other settings: the upstream calls do
        views[DEFAULT_ACCOUNT] = virtual
    return [views[key] for key in sorted(views)]


def get_account(services, account_id: str) -> dict:
    virtual = virtual_default_view(services.settings)
    if account_id == DEFAULT_ACCOUNT and virtual:
        return virtual
    with read(services.engine) as conn:
        row = accounts_repo.get_account(conn, account_id)
    if row is None:
        raise NotFound("not_found", "No such account.")
    return account_view(row)


def create_account(services, values: dict) -> dict:
    account_id = values["id"]
    _refuse_virtual_default(services.settings, account_id)
    now = time.time()
    row = {
        "id": account_id,
        **_sealed(services.settings, values["token"]),
        "budget_overrides_json": json.dumps(values.get("budget_overrides") or {}),
        "state": ACTIVE,
        "created_at": now,
        "updated_at": now,
    }
    with write(services.engine) as conn:
        if accounts_repo.get_account(conn, account_id) is not None:
            raise Conflict(
                "account_exists",
                f"The account {account_id!r} exists: PATCH /v1/accounts/{account_id} to change "
                "its token or budgets.",
                pointer="/id",
            )
        accounts_repo.insert_account(conn, row)
        stored = accounts_repo.get_account(conn, account_id)
    log.info("account %s created (token %s)", account_id, row["token_fingerprint"])
    return account_view(stored)


def update_account(services, account_id: str, values: dict) -> dict:
    """A new token (which makes the account active again: held work resumes) and/or new
    budget overrides (null or {} clears them)."""
    _refuse_virtual_default(services.settings, account_id)
    changes: dict = {"updated_at": time.time()}
    if "token" in values:
        changes.update(_sealed(services.settings, values["token"]))
        changes.update(state=ACTIVE, unauthorized_at=None, unauthorized_detail=None)
    if "budget_overrides" in values:
        changes["budget_overrides_json"] = json.dumps(values["budget_overrides"] or {})
    with write(services.engine) as conn:
        _stored(conn, account_id)
        accounts_repo.update_account(conn, account_id, changes)
        row = accounts_repo.get_account(conn, account_id)
    if "token" in values:
        log.info("account %s: token replaced (now %s)", account_id, row["token_fingerprint"])
    return account_view(row)


def delete_account(services, account_id: str) -> None:
    """Refused (409) while open runs or watches still use the account."""
    _refuse_virtual_default(services.settings, account_id)
    with write(services.engine) as conn:
        _stored(conn, account_id)
        open_runs, watches = accounts_repo.open_work_of(conn, account_id)
        if open_runs or watches:
            raise Conflict(
                "account_in_use",
                f"The account {account_id!r} still has {open_runs} open run(s) and {watches} "
                "watch(es): let the runs settle and delete the watches first.",
                meta={"open_runs": open_runs, "watches": watches},
            )
        accounts_repo.delete_account(conn, account_id)
    log.info("account %s deleted", account_id)


def reencrypt_tokens(engine, keys: tuple[str, ...]) -> int:
    """Every stored token sealed again under the first key, in one transaction: then the
    other keys can be dropped. Raises TokenUnreadable (nothing changed) if a key is missing."""
    box = TokenBox(keys)
    moved = 0
    with write(engine) as conn:
        rows = accounts_repo.list_accounts(conn)
        if rows and not box.available:
            raise EncryptionUnavailable(
                "RELAY_ENCRYPTION_KEYS is not set: the stored tokens cannot be read."
            )
        for row in rows:
            try:
                box.open(row["token_ciphertext"])
            except TokenUnreadable:
                raise TokenUnreadable(
                    f"account {row['id']!r}: no RELAY_ENCRYPTION_KEYS key decrypts its token "
                    "(nothing was changed)"
                ) from None
            resealed = box.reseal(row["token_ciphertext"])
            moved += accounts_repo.replace_ciphertext(conn, row["id"], row["updated_at"], resealed)
    return moved


def _sealed(settings, token: str) -> dict:
    remember_secret(token)  # should anything ever print it, this process masks it
    try:
        ciphertext = TokenBox(settings.relay_encryption_keys).seal(token)
    except EncryptionUnavailable:
        raise Conflict(
            "encryption_unavailable",
            "Storing an account's token needs RELAY_ENCRYPTION_KEYS (comma-separated Fernet "
            "keys; the first encrypts): set it and restart the relay.",
            pointer="/token",
        ) from None
    return {"token_ciphertext": ciphertext, "token_fingerprint": fingerprint(token)}


def _refuse_virtual_default(settings, account_id: str) -> None:
    """`default` is ZAPIER_ACCESS_TOKEN, or in sandbox mode the sandbox's: never stored."""
    if account_id != DEFAULT_ACCOUNT:
        return
    match virtual_default_origin(settings):
        case "env":
            raise Conflict(
                "default_is_configured",
                "The account 'default' is ZAPIER_ACCESS_TOKEN: change that setting to change "
                "it, or give this account another id.",
            )
        case "sandbox":
            raise Conflict(
                "default_is_virtual",
                "In sandbox mode the account 'default' is the sandbox's own (it takes any "
                "token): give this account another id.",
            )


def _stored(conn, account_id: str) -> dict:
    row = accounts_repo.get_account(conn, account_id)
    if row is None:
        raise NotFound("not_found", "No such account.")
    return row
