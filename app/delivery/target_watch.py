"""What an attempt's outcome means beyond its delivery: a target disabled (410 Gone, or
failing without a break for WEBHOOK_DISABLE_AFTER_SECONDS), a target recovered, a delivery
out of retries; each said once to the operator as an operational event."""

from __future__ import annotations

import logging

from app.delivery import ops_events
from app.delivery.states import DeliveryState
from app.schemas.timestamps import iso
from app.store import webhooks_repo

log = logging.getLogger(__name__)


def after_outcome(conn, settings, delivery: dict, result, values: dict, before, after, now):
    """Disable, recover and exhaustion consequences of one written outcome."""
    webhook_id = delivery["webhook_id"]
    if webhook_id and result.gone:
        disable(conn, webhook_id, "answered 410 Gone", now)
    elif webhook_id and _failing_too_long(after, now, settings.webhook_disable_after_seconds):
        since = iso(after["failing_since"])
        reason = (
            f"failing without a break since {since} "
            f"({after['consecutive_failures']} failures in a row)"
        )
        disable(conn, webhook_id, reason, now)
    if webhook_id and result.delivered and _was_failing(before, settings):
        data = {"webhook_id": webhook_id, "url": delivery["target_url"], "at": iso(now)}
        ops_events.emit(conn, ops_events.WEBHOOK_RECOVERED, data, f"{webhook_id}:{now}", now)
    if values.get("state") is DeliveryState.FAILED and not ops_events.is_operational(delivery):
        data = {
            "delivery_id": delivery["id"],
            "webhook_id": webhook_id,
            "target_url": delivery["target_url"],
            "event_id": delivery["event_id"],
            "event_type": delivery["event_type"],
            "run_id": delivery["run_id"],
            "attempts": values["attempts"],
            "last_status": result.status,
            "last_error": result.error,
        }
        dedupe = f"{delivery['id']}:{now}"
        ops_events.emit(conn, ops_events.DELIVERY_EXHAUSTED, data, dedupe, now)


def disable(conn, webhook_id: str, reason: str, now: float) -> bool:
    """Disable an enabled target and say so once; its deliveries are held from now on."""
    if not webhooks_repo.disable_if_enabled(conn, webhook_id, reason, now):
        return False
    hook = webhooks_repo.get_webhook(conn, webhook_id) or {}
    data = {"webhook_id": webhook_id, "url": hook.get("url"), "reason": reason}
    ops_events.emit(conn, ops_events.WEBHOOK_DISABLED, data, f"{webhook_id}:{now}", now)
    log.warning("webhook %s disabled: %s", webhook_id, reason)
    return True


def _failing_too_long(health: dict, now: float, limit: float) -> bool:
    since = health.get("failing_since")
    return since is not None and now - since >= limit


def _was_failing(health: dict, settings) -> bool:
    failures = health.get("consecutive_failures") or 0
    return bool(health.get("pauses")) or failures >= settings.forward_breaker_failures
