"""A Zap run's status event (`zap_run.<status>`) and its deliveries to a watch's targets."""

from __future__ import annotations

import json
import uuid

from app.delivery.states import DeliveryState
from app.schemas.timestamps import iso
from app.store import deliveries_repo, webhooks_repo, zap_repo

EVENT_PREFIX = "zap_run."


def event_type(status: str) -> str:
    return (EVENT_PREFIX + status)[:32]


def watch_targets(conn, watch: dict) -> list[tuple[str, str]]:
    """(webhook id, url) of the watch's targets: the ones it names, else every catch-all one.

    A catch-all subscription has no stored-action and no status filter: those filters speak of
    relay runs, so a filtered subscription never receives Zap run events unless named.
    """
    named = json.loads(watch["webhook_ids_json"] or "[]")
    hooks = webhooks_repo.event_targets(conn)
    if named:
        return [(hook["id"], hook["url"]) for hook in hooks if hook["id"] in named]
    return [
        (hook["id"], hook["url"])
        for hook in hooks
        if not hook["stored_action_ids"] and not hook["statuses"]
    ]


def record_status(conn, watch: dict, run: dict, previous: str | None, targets, now: float) -> int:
    """The (run, status) event, made once ever, and one delivery per target; returns how many
    deliveries are new. Seeing the same status again (a rescan, another watch) adds nothing
    but deliveries to targets that did not have it yet."""
    status = run["status"]
    body = {
        "type": event_type(status),
        "timestamp": iso(now),
        "data": {
            "watch_id": watch["id"],
            "account": watch["account_id"],
            "previous_status": previous,
            "zap_run": run,
        },
    }
    event = zap_repo.event_for(
        conn,
        run["id"],
        status,
        {
            "id": str(uuid.uuid4()),
            "zap_run_id": run["id"],
            "status": status,
            "event_id": f"msg_{uuid.uuid4().hex}",
            "body": json.dumps(body, separators=(",", ":"), sort_keys=True),
            "created_at": now,
        },
    )
    created = 0
    for webhook_id, url in targets:
        created += deliveries_repo.insert_delivery(
            conn,
            {
                "id": str(uuid.uuid4()),
                "run_id": None,
                "zap_event_id": event["id"],
                "webhook_id": webhook_id,
                "target_url": url,
                "event_id": event["event_id"],
                "event_type": event_type(status),
                "body": event["body"],
                "state": DeliveryState.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            },
        )
    return created
