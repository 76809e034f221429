"""Around delivery attempts: the targets' secrets before them, the outcomes written after.

These are the blocking database steps of the delivery engine (app/delivery/engine.py), run on
its small thread pool, each for a whole batch in one transaction: one claim, one read of the
secrets and one write of outcomes serve many sends.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from app.delivery.breaker import after_attempt
from app.delivery.retry_schedule import next_delivery_delay
from app.delivery.sender import AttemptResult
from app.delivery.states import DeliveryState
from app.observability.event_metrics import observe_delivery
from app.observability.run_context import bind_run_id
from app.store import deliveries_repo, target_health_repo, webhooks_repo
from app.store.engine import read, write

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finished:
    """One attempt's outcome, waiting to be written."""

    delivery: dict
    result: AttemptResult
    at: float


def signing_secrets(services, batch: list[dict]) -> dict[str, tuple[list[str], str | None]]:
    """Per delivery id: (secrets, why not), read at send time so a rotation applies."""
    ids = [d["webhook_id"] for d in batch if d["webhook_id"] is not None]
    with read(services.engine) as conn:
        hooks = webhooks_repo.get_webhooks(conn, ids)
    answer = {}
    for delivery in batch:
        if delivery["webhook_id"] is None:
            answer[delivery["id"]] = ([services.settings.forward_secret], None)
            continue
        hook = hooks.get(delivery["webhook_id"])
        if hook is None:
            answer[delivery["id"]] = ([], "target deleted")
        elif not hook["enabled"]:
            reason = f"target disabled: {hook['disabled_reason'] or 'by its owner'}"
            answer[delivery["id"]] = ([], reason)
        else:
            answer[delivery["id"]] = ([hook["secret"]], None)
    return answer


def record_not_sent(services, delivery: dict, owner: str, why_not: str) -> None:
    with write(services.engine) as conn:
        deliveries_repo.release_delivery(
            conn,
            delivery["id"],
            owner,
            time.time(),
            state=DeliveryState.FAILED,
            last_error=why_not,
        )
    log.warning("delivery %s not sent: %s", delivery["id"], why_not)


def next_values(settings, delivery: dict, result: AttemptResult, at: float) -> dict:
    """What the delivery row becomes after this attempt."""
    attempts = delivery["attempts"] + 1
    values = {"attempts": attempts, "last_status": result.status, "last_error": result.error}
    if result.delivered:
        values.update(state=DeliveryState.DELIVERED, delivered_at=at, next_attempt_at=None)
    elif result.gone:
        values.update(state=DeliveryState.GONE, next_attempt_at=None)
    else:
        delay = next_delivery_delay(settings.forward_retry_schedule, attempts, result.retry_after)
        if delay is None:
            values.update(state=DeliveryState.FAILED, next_attempt_at=None)
        else:
            values["next_attempt_at"] = time.time() + delay
    return values


def record_outcomes(services, batch: list[Finished], owner: str) -> dict[str, dict]:
    """Every attempt, its delivery's next state and its target's health, in one transaction;
    returns the health of each target touched."""
    settings, now = services.settings, time.time()
    written = []
    health: dict[str, dict] = {}
    with write(services.engine) as conn:
        for item in batch:
            delivery, result = item.delivery, item.result
            values = next_values(settings, delivery, result, item.at)
            deliveries_repo.record_attempt(conn, _attempt_row(item))
            deliveries_repo.release_delivery(conn, delivery["id"], owner, now, **values)
            key = delivery["target_key"]
            if key not in health:
                health[key] = target_health_repo.locked_health(conn, key)
            health[key] = after_attempt(
                health[key], result.delivered, result.status, result.error, now, settings.breaker
            )
            if result.gone and delivery["webhook_id"]:
                disabled = {"enabled": False, "disabled_reason": "answered 410 Gone"}
                webhooks_repo.update_webhook(conn, delivery["webhook_id"], disabled, now)
            written.append((item, values))
        for key, row in health.items():
            target_health_repo.save_health(conn, key, _health_columns(row))
    for item, values in written:
        observe_delivery(item.delivery, item.result)
        _log_outcome(item, values)
    return health


def _attempt_row(item: Finished) -> dict:
    return {
        "delivery_id": item.delivery["id"],
        "attempted_at": item.at,
        "status": item.result.status,
        "error": item.result.error,
        "latency_ms": item.result.latency_ms,
        "response_excerpt": item.result.excerpt,
    }


def _health_columns(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "target_key"}


def _log_outcome(item: Finished, values: dict) -> None:
    delivery, result = item.delivery, item.result
    bind_run_id(delivery["run_id"] or delivery["event_id"])
    subject = f"run {delivery['run_id']}" if delivery["run_id"] else "a Zap run event"
    outcome = result.status or result.error
    if values.get("state") is DeliveryState.FAILED:
        log.warning(
            "delivery %s of %s to %s gave up after %d attempts: %s",
            delivery["id"], subject, delivery["target_url"], values["attempts"], outcome,
        )  # fmt: skip
    else:
        log.info(
            "delivery %s of %s to %s: %s (attempt %d)",
            delivery["id"], subject, delivery["target_url"], outcome, values["attempts"],
        )  # fmt: skip
