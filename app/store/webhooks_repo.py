"""SQL for forward targets (subscriptions), including the ones FORWARD_URLS creates at start."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.store.tables import webhooks


def _decode(row) -> dict:
    item = dict(row)
    item["stored_action_ids"] = json.loads(item.pop("stored_action_ids_json"))
    item["statuses"] = json.loads(item.pop("statuses_json"))
    return item


def _encode(values: dict) -> dict:
    values = dict(values)
    if "stored_action_ids" in values:
        values["stored_action_ids_json"] = json.dumps(values.pop("stored_action_ids"))
    if "statuses" in values:
        values["statuses_json"] = json.dumps(values.pop("statuses"))
    return values


# Built once: every settled run lists the enabled targets.
_ALL_WEBHOOKS = select(webhooks).order_by(webhooks.c.created_at, webhooks.c.id)
_ENABLED_WEBHOOKS = _ALL_WEBHOOKS.where(webhooks.c.enabled.is_(True))
OPS_ORIGIN = "ops"
# Disabled ones too: what comes due while a target is disabled is held for it, never dropped.
_EVENT_TARGETS = _ALL_WEBHOOKS.where(webhooks.c.origin != OPS_ORIGIN)
_OPS_TARGETS = _ALL_WEBHOOKS.where(webhooks.c.origin == OPS_ORIGIN)
_GET_WEBHOOK = select(webhooks).where(webhooks.c.id == bindparam("match_id"))


def list_webhooks(conn, enabled_only: bool = False) -> list[dict]:
    stmt = _ENABLED_WEBHOOKS if enabled_only else _ALL_WEBHOOKS
    return [_decode(row) for row in conn.execute(stmt).mappings()]


def event_targets(conn) -> list[dict]:
    """Every subscription that run and Zap run events go to, enabled or not."""
    return [_decode(row) for row in conn.execute(_EVENT_TARGETS).mappings()]


def ops_targets(conn) -> list[dict]:
    """The OPS_WEBHOOK_URLS targets: operational events only."""
    return [_decode(row) for row in conn.execute(_OPS_TARGETS).mappings()]


def get_webhook(conn, webhook_id: str) -> dict | None:
    row = conn.execute(_GET_WEBHOOK, {"match_id": webhook_id}).mappings().first()
    return _decode(row) if row else None


def get_webhooks(conn, webhook_ids: list[str]) -> dict[str, dict]:
    """The webhooks with these ids, by id (missing ones are simply absent)."""
    if not webhook_ids:
        return {}
    stmt = select(webhooks).where(webhooks.c.id.in_(sorted(set(webhook_ids))))
    return {row["id"]: _decode(row) for row in conn.execute(stmt).mappings()}


def create_webhook(conn, values: dict, now: float, webhook_id: str | None = None) -> dict:
    row_id = webhook_id or str(uuid.uuid4())
    row = {"id": row_id, "created_at": now, "updated_at": now, **_encode(values)}
    conn.execute(insert(webhooks).values(**row))
    return get_webhook(conn, row["id"])


def update_webhook(conn, webhook_id: str, values: dict, now: float) -> dict | None:
    stmt = update(webhooks).where(webhooks.c.id == webhook_id)
    conn.execute(stmt.values(updated_at=now, **_encode(values)))
    return get_webhook(conn, webhook_id)


def disable_if_enabled(conn, webhook_id: str, reason: str, now: float) -> bool:
    """Disable the target unless it already is; True when this call disabled it."""
    stmt = (
        update(webhooks)
        .where(webhooks.c.id == webhook_id, webhooks.c.enabled.is_(True))
        .values(enabled=False, disabled_reason=reason, updated_at=now)
    )
    return conn.execute(stmt).rowcount == 1


def delete_webhook(conn, webhook_id: str) -> bool:
    return conn.execute(delete(webhooks).where(webhooks.c.id == webhook_id)).rowcount == 1


def sync_env_webhooks(
    conn, urls: tuple[str, ...], secret: str | None, now: float, origin: str = "env"
) -> None:
    """Make the FORWARD_URLS (or, with origin "ops", OPS_WEBHOOK_URLS) targets exist, once
    each, keeping a disabled one disabled; drop the ones no longer configured."""
    existing = {
        row["url"]: row
        for row in conn.execute(select(webhooks).where(webhooks.c.origin == origin)).mappings()
    }
    for url in urls:
        if url in existing:
            if existing[url]["secret"] != secret:
                conn.execute(
                    update(webhooks)
                    .where(webhooks.c.id == existing[url]["id"])
                    .values(secret=secret, updated_at=now)
                )
            continue
        # A fixed id per URL: processes starting together cannot create it twice.
        env_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"relay-{origin}-target:{url}"))
        values = {"url": url, "secret": secret, "origin": origin, "enabled": True}
        try:
            with conn.begin_nested():
                create_webhook(conn, values, now, env_id)
        except IntegrityError:
            continue
    for url, row in existing.items():
        if url not in urls:
            conn.execute(delete(webhooks).where(webhooks.c.id == row["id"]))
