"""Settling a run: the guarded final state change and its deliveries, in one transaction."""

from __future__ import annotations

import json

from app.delivery import ops_events
from app.delivery.run_events import create_deliveries, event_body, late_result_body
from app.observability.event_metrics import observe_settled
from app.runs.report_decisions import LateResult
from app.runs.states import RunKind, RunState, Settlement
from app.schemas.timestamps import iso
from app.store import runs_repo


def result_view(run: dict, result: dict | None) -> dict | None:
    """The result as the relay shows it: upstream's body, with the relay's run id."""
    if result is None:
        return None
    if run["kind"] == RunKind.ACTION_RUN:
        result = dict(result.get("data") or {})
    return {**result, "id": run["id"]}


def settle(
    conn,
    run: dict,
    target: RunState,
    now: float,
    *,
    source: str | None = None,
    result_text: str | None = None,
    reason: str | None = None,
    errors: list | None = None,
    forward: bool = True,
    **values,
) -> bool:
    """Move `run` to the final `target` and queue its forwards; False if it was already final."""
    moved = runs_repo.move_run(
        conn,
        run["id"],
        target,
        settled_at=now,
        updated_at=now,
        next_poll_at=None,
        next_submit_at=None,
        source=source,
        result_json=result_text,
        reason=reason,
        **values,
    )
    if not moved:
        return False
    observe_settled(target, source)
    if target is RunState.EXPIRED:
        _announce_expiry(conn, run, reason, now)
    if forward:
        settled = {**run, **values, "state": target.value, "source": source}
        result = result_view(settled, json.loads(result_text)) if result_text else None
        extra = {"source": source, "reason": reason, "errors": errors}
        create_deliveries(conn, settled, event_body(settled, target, now, result, extra), now)
    return True


def _announce_expiry(conn, run: dict, reason: str | None, now: float) -> None:
    """The operator hears of every run given up on (run.expired), once per run."""
    data = {
        "run_id": run["id"],
        "kind": run["kind"],
        "stored_action_id": run.get("stored_action_id"),
        "upstream_run_id": run.get("upstream_run_id"),
        "created_at": iso(run["created_at"]),
        "reason": reason,
    }
    ops_events.emit(conn, ops_events.RUN_EXPIRED, data, run["id"], now)


def apply_settlement(
    conn, run: dict, settlement: Settlement, now: float, *, forward: bool = True
) -> bool:
    """Write a decided settlement; False if the run was already final."""
    return settle(
        conn,
        run,
        settlement.target,
        now,
        source=settlement.source,
        result_text=settlement.result_text,
        reason=settlement.reason,
        errors=settlement.errors,
        forward=forward,
        **settlement.values,
    )


def apply_late_result(conn, run: dict, late: LateResult, now: float) -> bool:
    """Keep a result that came after `run` expired and queue its one `run.late_result`
    forward; False if the run already has a result. The run stays expired."""
    if not runs_repo.store_late_result(conn, run["id"], late.result_text, now):
        return False
    result = result_view(run, json.loads(late.result_text))
    body = late_result_body(run, now, result, late.source)
    # Webhooks filtering on the result's status get it, and so do those told it expired.
    statuses = (late.target.value, RunState.EXPIRED.value)
    create_deliveries(conn, run, body, now, statuses)
    return True
