"""Deliveries as the operator sees them: one with every attempt, pages behind cursors, and a
redelivery of one delivery to its one target under the same webhook-id."""

from __future__ import annotations

import time

from app.delivery.breaker import pause_reason
from app.delivery.states import DeliveryState
from app.errors import Conflict, InvalidInput, NotFound
from app.schemas.cursors import decode_cursor, encode_cursor
from app.store import deliveries_repo, delivery_listing_repo, target_health_repo
from app.store.engine import read, write

# "succeeded" is what the list filter calls a delivered one.
STATE_ALIASES = {"succeeded": DeliveryState.DELIVERED.value}


def delivery_view(delivery: dict, attempts: list[dict], health: dict | None, now: float) -> dict:
    """The row with its attempts; a pending one whose target's breaker is open shows as
    `paused` with the reason (it waits for the target, not for its turn)."""
    pending = delivery["state"] == DeliveryState.PENDING
    paused = pause_reason(health, now) if pending else None
    next_attempt = delivery["next_attempt_at"] if pending else None
    if paused and next_attempt is not None:
        next_attempt = max(next_attempt, health["paused_until"])
    return {
        **delivery,
        "state": "paused" if paused else delivery["state"],
        "paused_reason": paused,
        # Only a pending delivery has a next attempt; the column outlives the last one.
        "next_attempt_at": next_attempt,
        "attempts": [a for a in attempts if a["delivery_id"] == delivery["id"]],
    }


def views_of(conn, rows: list[dict], with_attempts: bool = True) -> list[dict]:
    attempts = deliveries_repo.attempts_of(conn, [d["id"] for d in rows]) if with_attempts else []
    health = target_health_repo.health_of_many(conn, [d["target_key"] for d in rows])
    now = time.time()
    return [delivery_view(d, attempts, health.get(d["target_key"]), now) for d in rows]


def get_delivery(services, delivery_id: str) -> dict:
    with read(services.engine) as conn:
        row = deliveries_repo.get_delivery(conn, delivery_id)
        if row is None:
            raise NotFound("not_found", "No such delivery.")
        return views_of(conn, [row])[0]


def deliveries_page(services, query: dict) -> dict:
    """Newest first, filtered by a DeliveriesQuery; `next_cursor` is None on the last page."""
    after = None
    if "cursor" in query:
        after = decode_cursor(query["cursor"])
        if after is None:
            raise InvalidInput("invalid", "Unknown cursor.", parameter="cursor")
    filters = {k: query.get(k) for k in ("webhook_id", "event_type", "run_id", "account")}
    if query.get("state"):
        filters["state"] = STATE_ALIASES.get(query["state"], query["state"])
    for name in ("since", "until"):
        if query.get(name) is not None:
            filters[name] = query[name].timestamp()
    limit = query["limit"]
    with read(services.engine) as conn:
        rows = delivery_listing_repo.list_deliveries(conn, filters, after, limit + 1, time.time())
        page = views_of(conn, rows[:limit], with_attempts=False)
    more = len(rows) > limit
    return {"data": page, "next_cursor": encode_cursor(page[-1]) if more else None}


def redeliver_delivery(services, delivery_id: str) -> dict:
    """This delivery again, to its one target, under the same webhook-id; behind any attempt
    of it in flight."""
    with write(services.engine) as conn:
        row = deliveries_repo.get_delivery(conn, delivery_id)
        if row is None:
            raise NotFound("not_found", "No such delivery.")
        if row["state"] == DeliveryState.HELD:
            raise Conflict("held", "Its target is disabled: enable the target to release it.")
        deliveries_repo.requeue_delivery(conn, delivery_id, time.time())
        return views_of(conn, [deliveries_repo.get_delivery(conn, delivery_id)])[0]
