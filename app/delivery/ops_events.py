"""Operational events for the operator (OPS_WEBHOOK_URLS): signed and retried like forwards.

Each event goes once per dedupe key: its webhook-id is derived from (type, key), and a
delivery is unique per (webhook-id, target), so two workers noticing the same thing send it
once. Bodies: {"type", "timestamp", "data"}; the README's Operations section lists each type.
"""

from __future__ import annotations

import json
import time
import uuid

from app.delivery.states import DeliveryState
from app.runs.poll_plan import shortfall
from app.schemas.timestamps import iso
from app.store import deliveries_repo, stats_repo, webhooks_repo
from app.store.engine import read, write

NAMESPACE = uuid.UUID("0b1d6c1e-5e55-4c5e-9b1e-000e7e0a0001")
DELIVERY_EXHAUSTED = "delivery.exhausted"
WEBHOOK_DISABLED = "webhook.disabled"
WEBHOOK_RECOVERED = "webhook.recovered"
CALLBACKS_MISSING = "callbacks.missing"
BUDGET_EXHAUSTED = "budget.exhausted"
RUN_EXPIRED = "run.expired"
ACCOUNT_UNAUTHORIZED = "account.unauthorized"


def emit(conn, event_type: str, data: dict, dedupe: str, now: float) -> int:
    """Queue `event_type` to every ops target in this transaction; how many were new."""
    targets = [t for t in webhooks_repo.ops_targets(conn) if t["enabled"]]
    if not targets:
        return 0
    event_id = "msg_" + uuid.uuid5(NAMESPACE, f"{event_type}:{dedupe}").hex
    body = json.dumps(
        {"type": event_type, "timestamp": iso(now), "data": data},
        separators=(",", ":"),
        sort_keys=True,
    )
    rows = [
        {
            "id": str(uuid.uuid4()),
            "run_id": None,
            "zap_event_id": None,
            "webhook_id": target["id"],
            "target_url": target["url"],
            "event_id": event_id,
            "event_type": event_type,
            "body": body,
            "state": DeliveryState.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for target in targets
    ]
    return deliveries_repo.insert_deliveries(conn, rows)


def is_operational(delivery: dict) -> bool:
    """An ops event's own delivery: never the subject of another ops event (no loops)."""
    return delivery["run_id"] is None and delivery["zap_event_id"] is None


def budget_alarm(engine, limits: dict[str, int], window: float = 300.0, cap: float = 300.0):
    """What the gateway calls when work waits for a spent upstream budget (once per window
    and process; the event's dedupe key makes it once per window across processes). For the
    GET budget it also says how many polls wait, and how far the budget falls short of
    polling every open run every POLL_MAX_INTERVAL_SECONDS (`cap`)."""

    def announce(bucket: str, admission) -> None:
        now = time.time()
        account = admission.account
        limit = admission.limit if admission.limit is not None else limits.get(bucket)
        data = {
            "account": account,
            "bucket": bucket,
            "limit": limit,
            "window_end": iso(admission.window_end),
            "next_call_in_seconds": round(admission.next_in, 3),
        }
        if bucket == "get":
            with read(engine) as conn:
                load = stats_repo.poll_load(conn, now).get(account, {"open": 0, "due": 0})
            data["polls_due"] = load["due"]
            data["open_runs"] = load["open"]
            data["shortfall_per_window"] = shortfall(load["open"], admission.limit, window, cap)
        # Each account's windows are its own; the default account keeps its old key.
        scope = bucket if account == "default" else f"{account}/{bucket}"
        with write(engine) as conn:
            emit(conn, BUDGET_EXHAUSTED, data, f"{scope}:{admission.window_end!r}", now)

    return announce
