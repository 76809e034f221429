"""The relay's own view of a run: state, source, timestamps, deliveries and a timeline."""

from __future__ import annotations

import base64
import json

from app.delivery.run_events import iso
from app.runs.settle import result_view
from app.store import deliveries_repo, runs_repo, upstream_calls_repo


def run_summary(run: dict) -> dict:
    return {
        "id": run["id"],
        "kind": run["kind"],
        "stored_action_id": run["stored_action_id"],
        "action": run["action"],
        "state": run["state"],
        "upstream_run_id": run["upstream_run_id"],
        "source": run["source"],
        "reason": run["reason"],
        "idempotency_id": run["idempotency_id"],
        "metadata": json.loads(run["metadata_json"] or "{}"),
        "created_at": iso(run["created_at"]),
        "submitted_at": iso(run["submitted_at"]),
        "settled_at": iso(run["settled_at"]),
        "next_poll_at": iso(run["next_poll_at"]),
        "poll_count": run["poll_count"],
        "throttle_count": run["throttle_count"],
    }


def run_detail(conn, run: dict) -> dict:
    callbacks = runs_repo.callbacks_of(conn, run["id"])
    calls = upstream_calls_repo.calls_of(conn, run["id"])
    deliveries = deliveries_repo.deliveries_of(conn, run["id"])
    attempts = deliveries_repo.attempts_of(conn, [d["id"] for d in deliveries])
    result = json.loads(run["result_json"]) if run["result_json"] else None
    return {
        **run_summary(run),
        "callback_count": len(callbacks),
        "result": result_view(run, result),
        "deliveries": [_delivery(d, attempts) for d in deliveries],
        "timeline": _timeline(run, callbacks, calls, deliveries, attempts),
    }


def _delivery(delivery: dict, attempts: list[dict]) -> dict:
    mine = [a for a in attempts if a["delivery_id"] == delivery["id"]]
    return {
        "id": delivery["id"],
        "webhook_id": delivery["webhook_id"],
        "target_url": delivery["target_url"],
        "event_id": delivery["event_id"],
        "event_type": delivery["event_type"],
        "state": delivery["state"],
        "next_attempt_at": iso(delivery["next_attempt_at"])
        if delivery["state"] == "pending"
        else None,
        "attempts": [
            {
                "at": iso(a["attempted_at"]),
                "status": a["status"],
                "error": a["error"],
                "latency_ms": round(a["latency_ms"], 1),
                "response_excerpt": a["response_excerpt"],
            }
            for a in mine
        ],
    }


def _timeline(run, callbacks, calls, deliveries, attempts) -> list[dict]:
    entries = [(run["created_at"], "created", {})]
    entries += [
        (c["at"], c["operation"], {"outcome": c["outcome"], "status": c["status"]}) for c in calls
    ]
    if run["submitted_at"]:
        entries.append(
            (run["submitted_at"], "submitted", {"upstream_run_id": run["upstream_run_id"]})
        )
    entries += [
        (c["received_at"], "callback", {"verdict": c["verdict"], "status": c["status"]})
        for c in callbacks
    ]
    if run["settled_at"]:
        entries.append(
            (run["settled_at"], "settled", {"state": run["state"], "source": run["source"]})
        )
    targets = {d["id"]: d["target_url"] for d in deliveries}
    entries += [
        (
            a["attempted_at"],
            "delivery_attempt",
            {"target_url": targets[a["delivery_id"]], "status": a["status"], "error": a["error"]},
        )
        for a in attempts
    ]
    entries.sort(key=lambda entry: entry[0])
    return [{"at": iso(at), "event": event, "detail": detail} for at, event, detail in entries]


def encode_cursor(run: dict) -> str:
    return base64.urlsafe_b64encode(f"{run['created_at']!r}|{run['id']}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[float, str] | None:
    try:
        created, run_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return float(created), run_id
    except (ValueError, UnicodeDecodeError):
        return None
