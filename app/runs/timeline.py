"""A run's detail: its callbacks, upstream calls and delivery attempts merged into a timeline."""

from __future__ import annotations

import json

from app.delivery.listing import views_of
from app.runs.settle import result_view
from app.store import deliveries_repo, runs_repo, upstream_calls_repo


def run_detail(conn, run: dict) -> dict:
    """The run row plus callback_count, result, deliveries (with their attempts) and timeline,
    times left as stored (schemas.relay.Run dumps it)."""
    callbacks = runs_repo.callbacks_of(conn, run["id"])
    calls = upstream_calls_repo.calls_of(conn, run["id"])
    deliveries = deliveries_repo.deliveries_of(conn, run["id"])
    attempts = deliveries_repo.attempts_of(conn, [d["id"] for d in deliveries])
    result = json.loads(run["result_json"]) if run["result_json"] else None
    return {
        **run,
        "callback_count": len(callbacks),
        "result": result_view(run, result),
        "deliveries": views_of(conn, deliveries),
        "timeline": _timeline(run, callbacks, calls, deliveries, attempts),
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
    return [{"at": at, "event": event, "detail": detail} for at, event, detail in entries]
