"""Delivering one forward: sign, send, record the attempt, schedule or finish."""

from __future__ import annotations

import logging
import time

from app.delivery.retry_schedule import next_delivery_delay
from app.delivery.sender import attempt_delivery, delivery_session
from app.delivery.states import DeliveryState
from app.observability.histograms import observe_delivery
from app.store import deliveries_repo, webhooks_repo
from app.store.engine import read, write

log = logging.getLogger(__name__)


def _target(services, delivery: dict) -> tuple[str | None, str | None]:
    """(secret, why not) for the delivery's target, read at send time so rotation applies."""
    if delivery["webhook_id"] is None:
        return services.settings.forward_secret, None
    with read(services.engine) as conn:
        hook = webhooks_repo.get_webhook(conn, delivery["webhook_id"])
    if hook is None:
        return None, "target deleted"
    if not hook["enabled"]:
        return None, f"target disabled: {hook['disabled_reason'] or 'by its owner'}"
    return hook["secret"], None


def deliver(services, delivery: dict, owner: str) -> None:
    settings = services.settings
    secret, why_not = _target(services, delivery)
    now = time.time()
    if secret is None:
        with write(services.engine) as conn:
            deliveries_repo.release_delivery(
                conn,
                delivery["id"],
                owner,
                state=DeliveryState.FAILED,
                last_error=why_not,
            )
        log.info("delivery %s not sent: %s", delivery["id"], why_not)
        return
    session = delivery_session(settings.forward_allow_private, settings.forward_timeout_seconds)
    result = attempt_delivery(
        session,
        delivery["target_url"],
        secret,
        delivery["event_id"],
        delivery["body"],
        settings.forward_timeout_seconds,
    )
    attempts = delivery["attempts"] + 1
    values = {"attempts": attempts, "last_status": result.status, "last_error": result.error}
    if result.delivered:
        values.update(state=DeliveryState.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif result.gone:
        values.update(state=DeliveryState.GONE, next_attempt_at=None)
    else:
        delay = next_delivery_delay(settings.forward_retry_schedule, attempts, result.retry_after)
        if delay is None:
            values.update(state=DeliveryState.FAILED, next_attempt_at=None)
        else:
            values["next_attempt_at"] = time.time() + delay
    with write(services.engine) as conn:
        deliveries_repo.record_attempt(
            conn,
            {
                "delivery_id": delivery["id"],
                "attempted_at": now,
                "status": result.status,
                "error": result.error,
                "latency_ms": result.latency_ms,
                "response_excerpt": result.excerpt,
            },
        )
        deliveries_repo.release_delivery(conn, delivery["id"], owner, **values)
        if result.gone and delivery["webhook_id"]:
            webhooks_repo.update_webhook(
                conn,
                delivery["webhook_id"],
                {"enabled": False, "disabled_reason": "answered 410 Gone"},
                time.time(),
            )
    observe_delivery(delivery, result)
    log.info(
        "delivery %s of run %s to %s: %s (attempt %d)",
        delivery["id"],
        delivery["run_id"],
        delivery["target_url"],
        result.status or result.error,
        attempts,
    )
