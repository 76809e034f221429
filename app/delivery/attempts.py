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
from app.delivery.target_watch import after_outcome
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


@dataclass(frozen=True)
class SendPlan:
    """How to send one delivery: the secrets to sign with, or why it is held or failed."""

    secrets: tuple[str, ...] = ()
    held: str | None = None  # the target is disabled: wait for it
    failed: str | None = None  # the target is gone for good


def send_plans(services, batch: list[dict]) -> dict[str, SendPlan]:
    """Per delivery id, read at send time so a rotation or a disable applies at once."""
    ids = [d["webhook_id"] for d in batch if d["webhook_id"] is not None]
    with read(services.engine) as conn:
        hooks = webhooks_repo.get_webhooks(conn, ids)
    now, plans = time.time(), {}
    for delivery in batch:
        if delivery["webhook_id"] is None:
            plans[delivery["id"]] = SendPlan((services.settings.forward_secret,))
            continue
        hook = hooks.get(delivery["webhook_id"])
        if hook is None:
            plans[delivery["id"]] = SendPlan(failed="target deleted")
        elif not hook["enabled"]:
            why = f"target disabled: {hook['disabled_reason'] or 'by its owner'}"
            plans[delivery["id"]] = SendPlan(held=why)
        else:
            plans[delivery["id"]] = SendPlan(signing_keys(hook, now))
    return plans


def signing_keys(hook: dict, now: float) -> tuple[str, ...]:
    """The secret, and the one it replaced while the rotation's overlap lasts."""
    previous, until = hook.get("previous_secret"), hook.get("previous_secret_until")
    if previous and until and until > now:
        return (hook["secret"], previous)
    return (hook["secret"],)


def record_unsent(services, delivery: dict, owner: str, plan: SendPlan) -> None:
    """A delivery not attempted: held for its disabled target, or failed for a deleted one."""
    with write(services.engine) as conn:
        if plan.held:
            deliveries_repo.hold(conn, delivery["id"], owner, plan.held)
        else:
            deliveries_repo.release_delivery(
                conn,
                delivery["id"],
                owner,
                time.time(),
                state=DeliveryState.FAILED,
                last_error=plan.failed,
            )
    log.warning("delivery %s not sent: %s", delivery["id"], plan.held or plan.failed)


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
            before = health[key]
            health[key] = after_attempt(
                before, result.delivered, result.status, result.error, now, settings.breaker
            )
            after_outcome(conn, settings, delivery, result, values, before, health[key], now)
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
    """One line per attempt; the run id rides on the line (run_id), not in the text."""
    delivery, result = item.delivery, item.result
    bind_run_id(delivery["run_id"] or delivery["event_id"])
    outcome = result.status or result.error
    target = delivery["target_url"]
    if values.get("state") is DeliveryState.FAILED:
        log.warning(
            "%s delivery %s to %s gave up after %d attempts: %s",
            delivery["event_type"], delivery["id"], target, values["attempts"], outcome,
        )  # fmt: skip
    else:
        log.info(
            "%s delivery %s to %s: %s (attempt %d)",
            delivery["event_type"], delivery["id"], target, outcome, values["attempts"],
        )  # fmt: skip
