"""A run's whole fate (duration, status, results, callbacks), decided once at creation."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.schemas.action_runs import ActionRunResponse
from app.schemas.stored_actions import StoredActionResult

STORED_ACTION = "stored_action"
ACTION_RUN = "action_run"
KINDS = (STORED_ACTION, ACTION_RUN)
# Codes valid in both contracts (v2's CodeEnum lacks authentication_access).
ERROR_CODES = ("user", "partner", "system", "throttled")
_STORED_RESULT = StoredActionResult()
_V2_RESULT = ActionRunResponse()


@dataclass(frozen=True)
class PlannedCallback:
    seq: int
    phase: str  # waiting | final
    due_at: float
    body: str
    duplicate: bool
    dropped: bool


@dataclass(frozen=True)
class RunPlan:
    run_id: str
    kind: str
    stored_action_id: str | None
    created_at: float
    done_at: float
    status: str
    result_body: str  # the GET 200 answer once done, also the final callback's body
    callbacks: tuple[PlannedCallback, ...]


def plan_run(
    kind: str,
    run_id: str,
    now: float,
    knobs: Mapping[str, Any],
    *,
    stored_action_id: str | None = None,
    inputs: Any = None,
    page: str | None = None,
    callback_url: str | None = None,
) -> RunPlan:
    """Every draw comes from a generator seeded by the run id, always in the same order,
    so one knob's change never shifts another knob's outcome for the same run."""
    rng = random.Random(run_id)
    duration = knobs["run_seconds"]
    span = knobs["run_seconds_max"] - duration
    jitter = rng.random()
    if span > 0:
        duration += jitter * span
    failed = rng.random() < knobs["error_rate"]
    code = rng.choice(ERROR_CODES)
    result_id = rng.randrange(1, 10**9)
    draws = {name: rng.random() < knobs[name] for name in _CALLBACK_KNOBS}

    status = "error" if failed else "success"
    if failed:
        results, errors = [], [_error(code, rng)]
    else:
        results, errors = [_result(result_id, run_id, inputs)], []
    final = _body(kind, run_id, status, results, errors, _next_page(page))
    done_at = now + duration
    callbacks = ()
    if callback_url:
        waiting = _body(kind, run_id, "waiting", [], [], None)
        callbacks = _callback_plan(draws, now, done_at, knobs, final, waiting)
    return RunPlan(run_id, kind, stored_action_id, now, done_at, status, final, callbacks)


_CALLBACK_KNOBS = (
    "callback_drop",
    "callback_duplicate",
    "callback_waiting_first",
    "callback_out_of_order",
)


def waiting_body(kind: str, run_id: str) -> str:
    """The answer while a run is still processing (v2 only: v1 answers 202 instead)."""
    return _body(kind, run_id, "waiting", [], [], None)


def with_foreign_id(result_body: str) -> str:
    """A v1 result naming another run (knob poll_foreign_id): an upstream that mixed runs up.

    Only v1: a v2 result carries no run id to mix up.
    """
    result = json.loads(result_body)
    result["id"] = str(uuid.uuid4())
    return json.dumps(result)


def _callback_plan(draws, now, done_at, knobs, final, waiting) -> tuple[PlannedCallback, ...]:
    final_due = done_at + knobs["callback_delay_seconds"]
    sequence = [("final", final_due, final, False)]
    if draws["callback_duplicate"]:
        sequence.append(("final", final_due, final, True))
    if draws["callback_out_of_order"]:
        sequence.append(("waiting", final_due, waiting, False))
    elif draws["callback_waiting_first"]:
        sequence.insert(0, ("waiting", now + (done_at - now) / 2, waiting, False))
    dropped = draws["callback_drop"]
    return tuple(
        PlannedCallback(seq, phase, due, body, duplicate, dropped)
        for seq, (phase, due, body, duplicate) in enumerate(sequence)
    )


def _body(kind, run_id, status, results, errors, next_page) -> str:
    if kind == STORED_ACTION:
        result = {"type": "run", "id": run_id, "status": status}
        result.update(results=results, errors=errors)
        if next_page is not None:
            result["next_page"] = next_page
        return json.dumps(_STORED_RESULT.dump(result))
    data = {"type": "run", "status": status, "results": results, "errors": errors}
    return json.dumps(_V2_RESULT.dump({"data": data}))


def _result(result_id: int, run_id: str, inputs: Any) -> dict:
    echoed = inputs if isinstance(inputs, dict) else {"value": inputs}
    return {"id": result_id, "run_id": run_id, "sandbox": True, "inputs": echoed}


def _error(code: str, rng: random.Random) -> dict:
    error = {
        "code": code,
        "title": f"Sandbox {code} error",
        "detail": "The sandbox decided this run fails (knob error_rate).",
        "meta": {"sandbox": True},
    }
    if code == "throttled":
        error["delay"] = rng.randrange(1, 60)
    return error


def _next_page(page: str | None) -> str | None:
    """A numeric page gets the next number, so a client can follow bulk-read paging."""
    return str(int(page) + 1) if page is not None and page.isdigit() else None
