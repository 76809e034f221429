"""Forward targets (webhooks) as the client manages them: secrets, the SSRF check, changes."""

from __future__ import annotations

import base64
import secrets
import time

from app.delivery import ops_events
from app.delivery.ssrf_guard import UnsafeTarget, check_target
from app.errors import InvalidInput, NotFound
from app.store import deliveries_repo, target_health_repo, webhooks_repo
from app.store.engine import read, write

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_HINT_LENGTH = 10  # what an answer shows of a secret once it is created
DAY_SECONDS = 86400.0


def list_targets(services) -> list[dict]:
    """Every target with its health (the breaker's state, last success and failure)."""
    now = time.time()
    with read(services.engine) as conn:
        rows = webhooks_repo.list_webhooks(conn)
        return [_hidden(row) | {"health": target_health(conn, row, now)} for row in rows]


def get_target(services, webhook_id: str) -> dict:
    """The target with its health, the 24 h success rate included."""
    now = time.time()
    with read(services.engine) as conn:
        row = _found(webhooks_repo.get_webhook(conn, webhook_id))
        return _hidden(row) | {"health": target_health(conn, row, now, with_rate=True)}


def create_target(services, values: dict) -> dict:
    """The new target, its secret (generated unless given) in full: the only time it is shown."""
    values = _checked(services.settings, values)
    values.setdefault("secret", new_secret())
    with write(services.engine) as conn:
        return webhooks_repo.create_webhook(conn, {**values, "origin": "api"}, time.time())


def update_target(services, webhook_id: str, values: dict) -> dict:
    """Change a target; enabling a disabled one releases its held deliveries, oldest first,
    and starts its breaker afresh."""
    values = _checked(services.settings, values)
    now = time.time()
    with write(services.engine) as conn:
        before = _found(webhooks_repo.get_webhook(conn, webhook_id))
        row = webhooks_repo.update_webhook(conn, webhook_id, values, now)
        if values.get("enabled") and not before["enabled"]:
            released = deliveries_repo.release_held(conn, webhook_id)
            target_health_repo.reset(conn, webhook_id)
            data = {"webhook_id": webhook_id, "url": row["url"], "released": released}
            ops_events.emit(conn, ops_events.WEBHOOK_RECOVERED, data, f"{webhook_id}:{now}", now)
        health = target_health(conn, row, now)
    # The caller just chose this secret: echoing it would only put it in one more log or proxy.
    return _hidden(row) | {"health": health}


def rotate_secret(services, webhook_id: str) -> dict:
    """A new secret, shown in full this once; the old one still signs (a second signature on
    every forward) for WEBHOOK_SECRET_OVERLAP_SECONDS, so receivers can switch at leisure."""
    now, fresh = time.time(), new_secret()
    overlap = services.settings.webhook_secret_overlap_seconds
    with write(services.engine) as conn:
        row = _found(webhooks_repo.get_webhook(conn, webhook_id))
        values = {
            "secret": fresh,
            "previous_secret": row["secret"],
            "previous_secret_until": now + overlap,
        }
        row = webhooks_repo.update_webhook(conn, webhook_id, values, now)
        health = target_health(conn, row, now)
    return {**row, "health": health, "previous_secret": None}


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
    return {**row, "secret": row["secret"][:SECRET_HINT_LENGTH] + "...", "previous_secret": None}


def target_health(conn, row: dict, now: float, with_rate: bool = False) -> dict:
    """enabled, paused (the breaker rests it) or disabled (with the reason), and the record."""
    health = target_health_repo.health_of_many(conn, [row["id"]]).get(row["id"]) or {}
    paused_until = health.get("paused_until")
    if not row["enabled"]:
        state = "disabled"
    elif paused_until and paused_until > now:
        state = "paused"
    else:
        state = "enabled"
    view = {
        "state": state,
        "disabled_reason": row["disabled_reason"] if not row["enabled"] else None,
        "paused_until": paused_until if state == "paused" else None,
        "consecutive_failures": health.get("consecutive_failures") or 0,
        "failing_since": health.get("failing_since"),
        "last_success_at": health.get("last_success_at"),
        "last_success_status": health.get("last_success_status"),
        "last_failure_at": health.get("last_failure_at"),
        "last_failure_status": health.get("last_failure_status"),
        "last_error": health.get("last_error"),
        "secret_overlap_until": _overlap_until(row, now),
    }
    if with_rate:
        tried, succeeded = deliveries_repo.attempt_counts(conn, row["id"], now - DAY_SECONDS)
        view["attempts_24h"] = tried
        view["success_rate_24h"] = round(succeeded / tried, 4) if tried else None
    return view


def _overlap_until(row: dict, now: float) -> float | None:
    until = row.get("previous_secret_until")
    return until if until and until > now else None
