"""What the relay's upstream-twin GET endpoints answer, from the store only."""

from __future__ import annotations

import json

from app.errors import NotFound, UpstreamRefusal
from app.runs.settle import result_view
from app.runs.states import RunKind, RunState
from app.store import runs_repo
from app.store.engine import read

FINAL_WITHOUT_RESULT = {
    RunState.FAILED.value: "Run failed",
    RunState.EXPIRED.value: "Run expired",
}
WAITING = {"type": "run", "status": "waiting", "results": [], "errors": []}
# The Retry-After of a pending result: results come by callback, often within a second, and
# answering from the store costs little. A client that must not poll takes a forward instead.
PENDING_RETRY_AFTER_SECONDS = 1


def stored_action_result(services, stored_action_id: str, run_id: str) -> dict | None:
    """The StoredActionResult (with the relay's id) once final; None while still pending."""
    run = _stored(services, run_id)
    mine = run is not None and run["kind"] == RunKind.STORED_ACTION
    if not mine or run["stored_action_id"] != stored_action_id:
        raise NotFound("not_found", "No run with this id for this stored action.")
    return final_result(raise_if_refused(run))


def action_run_result(services, run_id: str) -> dict:
    """The v2 GET answer: `status: waiting` until final (the v2 API has no "pending" answer)."""
    run = _stored(services, run_id)
    if run is None or run["kind"] != RunKind.ACTION_RUN:
        raise NotFound("not_found", "No action run with this id.")
    body = final_result(raise_if_refused(run))
    if body is None:
        return {"data": dict(WAITING)}
    body = dict(body)
    body.pop("id", None)
    body.pop("next_page", None)
    return {"data": body}


def raise_if_refused(run: dict) -> dict:
    """A run upstream refused answers every repeat with upstream's status and errors."""
    if run["state"] == RunState.REFUSED:
        raise UpstreamRefusal(run["refusal_status"], json.loads(run["refusal_json"] or "[]"))
    return run


def final_result(run: dict) -> dict | None:
    """The run's final result in the StoredActionResult shape; None while it is pending."""
    if run["result_json"] and run["state"] in (RunState.SUCCEEDED, RunState.FAILED):
        return result_view(run, json.loads(run["result_json"]))
    if run["state"] in FINAL_WITHOUT_RESULT:
        error = {
            "code": "system",
            "title": FINAL_WITHOUT_RESULT[run["state"]],
            "detail": run["reason"] or "",
            "meta": None,
        }
        return {
            "type": "run",
            "id": run["id"],
            "status": "error",
            "results": [],
            "errors": [error],
        }
    return None


def _stored(services, run_id: str) -> dict | None:
    with read(services.engine) as conn:
        return runs_repo.get_run(conn, run_id)
