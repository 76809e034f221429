"""Forward targets (webhooks) as the client manages them: secrets, the SSRF check, changes."""

from __future__ import annotations

import base64
import secrets
import time

from app.delivery.ssrf_guard import UnsafeTarget, check_target
from app.errors import InvalidInput, NotFound
from app.store import webhooks_repo
from app.store.engine import read, write

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_HINT_LENGTH = 10  # what an answer shows of a secret once it is created


def list_targets(services) -> list[dict]:
    with read(services.engine) as conn:
        return [_hidden(row) for row in webhooks_repo.list_webhooks(conn)]


def get_target(services, webhook_id: str) -> dict:
    with read(services.engine) as conn:
        return _hidden(_found(webhooks_repo.get_webhook(conn, webhook_id)))


def create_target(services, values: dict) -> dict:
    """The new target, its secret (generated unless given) in full: the only time it is shown."""
    values = _checked(services.settings, values)
    values.setdefault("secret", new_secret())
    with write(services.engine) as conn:
        return webhooks_repo.create_webhook(conn, {**values, "origin": "api"}, time.time())


def update_target(services, webhook_id: str, values: dict) -> dict:
    values = _checked(services.settings, values)
    with write(services.engine) as conn:
        _found(webhooks_repo.get_webhook(conn, webhook_id))
        row = webhooks_repo.update_webhook(conn, webhook_id, values, time.time())
    # The caller just chose this secret: echoing it would only put it in one more log or proxy.
    return _hidden(row)


def delete_target(services, webhook_id: str) -> None:
    with write(services.engine) as conn:
        if not webhooks_repo.delete_webhook(conn, webhook_id):
            raise NotFound("not_found", "No such webhook.")


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _checked(settings, values: dict) -> dict:
    if "url" in values:
        try:
            check_target(values["url"], settings.forward_allow_private)
        except UnsafeTarget as err:
            raise InvalidInput("unsafe_target", str(err), pointer="/url") from None
    if values.get("enabled"):
        values["disabled_reason"] = None  # re-enabled by hand: the old reason no longer holds
    return values


def _found(row: dict | None) -> dict:
    if row is None:
        raise NotFound("not_found", "No such webhook.")
    return row


def _hidden(row: dict) -> dict:
    return {**row, "secret": row["secret"][:SECRET_HINT_LENGTH] + "..."}
