"""What the relay's GET run endpoints answer, from the store only."""

from __future__ import annotations

import json

from app.runs.settle import result_view
from app.runs.states import RunState

FINAL_WITHOUT_RESULT = {
    RunState.FAILED.value: "Run failed",
    RunState.EXPIRED.value: "Run expired",
}


def stored_action_answer(run: dict) -> tuple[int, dict | None]:
    """202 until a final result exists, then 200 with a StoredActionResult (the relay's id)."""
    if run["result_json"] and run["state"] in (RunState.SUCCEEDED.value, RunState.FAILED.value):
        return 200, result_view(run, json.loads(run["result_json"]))
    if run["state"] in FINAL_WITHOUT_RESULT:
        error = {
            "code": "system",
            "title": FINAL_WITHOUT_RESULT[run["state"]],
            "detail": run["reason"] or "",
            "meta": None,
        }
        return 200, {
            "type": "run",
            "id": run["id"],
            "status": "error",
            "results": [],
            "errors": [error],
        }
    return 202, None


def action_run_answer(run: dict) -> tuple[int, dict]:
    """The v2 GET answer: always 200, `status: waiting` until final (the v2 API has no 202)."""
    code, body = stored_action_answer(run)
    if code == 202:
        return 200, {"data": {"type": "run", "status": "waiting", "results": [], "errors": []}}
    body = dict(body)
    body.pop("id", None)
    body.pop("next_page", None)
    return 200, {"data": body}
