"""The forward event of a settled run, and its delivery rows, written with the settlement."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection

from app.delivery.states import DeliveryState
from app.runs.states import EVENT_TYPES, LATE_RESULT_EVENT, RunKind, RunState
from app.schemas.timestamps import iso
from app.store import deliveries_repo, webhooks_repo

STATUS_OF_EVENT = {"run.succeeded": "succeeded", "run.failed": "failed", "run.expired": "expired"}


def event_body(run: dict, state: RunState, now: float, result: dict | None, extra: dict) -> dict:
    return _event(EVENT_TYPES[state], run, now, result, extra)


def late_result_body(run: dict, now: float, result: dict, source: str) -> dict:
    """`run.late_result`: the result of a run that had expired (at `expired_at`) when it came."""
    body = _event(LATE_RESULT_EVENT, run, now, result, {"source": source})
    body["data"].update(late=True, expired_at=iso(run["settled_at"]))
    return body


def _event(event_type: str, run: dict, now: float, result: dict | None, extra: dict) -> dict:
    data = {
        "run_id": run["id"],
        "kind": run["kind"],
        "stored_action_id": run["stored_action_id"],
        "upstream_run_id": run["upstream_run_id"],
        "source": extra.get("source"),
        "metadata": json.loads(run["metadata_json"] or "{}"),
        "account": run["account_id"],
        "result": result,
    }
    if run["kind"] == RunKind.ACTION_RUN:
        data.pop("stored_action_id")
        data["action"] = run["action"]
        data["authentication"] = run["authentication"]
    for key in ("reason", "errors"):
        if extra.get(key) is not None:
            data[key] = extra[key]
    return {"type": event_type, "timestamp": iso(now), "data": data}


def matches(target: dict, run: dict, statuses: Collection[str]) -> bool:
    """Whether a webhook's filters take an event that counts as any of `statuses`."""
    ids, wanted = target["stored_action_ids"], target["statuses"]
    if ids and run["stored_action_id"] not in ids:
        return False
    return not wanted or any(status in wanted for status in statuses)


def create_deliveries(
    conn, run: dict, body: dict, now: float, statuses: Collection[str] | None = None
) -> int:
    """One delivery per matching target, all under one event id (the webhook-id header).

    `statuses`: what the event counts as for webhooks' `statuses` filters; by default its
    type's (a late result counts as its result's status and as expired).
    """
    event_type = body["type"]
    statuses = statuses or (STATUS_OF_EVENT[event_type],)
    text = json.dumps(body, separators=(",", ":"), sort_keys=True)
    event_id = f"msg_{uuid.uuid4().hex}"
    targets = [
        (target["id"], target["url"])
        for target in webhooks_repo.event_targets(conn)
        if matches(target, run, statuses)
    ]
    if run["callback_url"]:
        targets.append((None, run["callback_url"]))
    rows = [
        {
            "id": str(uuid.uuid4()),
            "run_id": run["id"],
            "webhook_id": webhook_id,
            "target_url": url,
            "event_id": event_id,
            "event_type": event_type,
            "body": text,
            "state": DeliveryState.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for webhook_id, url in targets
    ]
    return deliveries_repo.insert_deliveries(conn, rows)
