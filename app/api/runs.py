"""Client API: the relay's own view of runs (/v1/runs), and redelivery."""

from __future__ import annotations

import time

from flask import Blueprint, jsonify

from app.api.auth import require_client
from app.api.bodies import load_query
from app.api.context import services, settings
from app.api.errors import ApiError
from app.runs.states import RunState
from app.runs.timeline import decode_cursor, encode_cursor, run_detail, run_summary
from app.schemas.relay import RunsQuery
from app.store import deliveries_repo, runs_repo
from app.store.engine import read, write

bp = Blueprint("runs", __name__, url_prefix="/v1/runs")


@bp.before_request
def _authenticate():
    require_client(settings())


@bp.get("")
def list_runs():
    query = load_query(RunsQuery())
    after = None
    if "cursor" in query:
        after = decode_cursor(query["cursor"])
        if after is None:
            raise ApiError(400, "invalid", "Unknown cursor.", pointer=None)
    created_after = query.get("created_after")
    with read(services().engine) as conn:
        rows = runs_repo.list_runs(
            conn,
            status=query.get("status"),
            stored_action_id=query.get("stored_action_id"),
            created_after=created_after.timestamp() if created_after else None,
            after=after,
            limit=query["limit"] + 1,
        )
    page, more = rows[: query["limit"]], len(rows) > query["limit"]
    return jsonify(
        {
            "data": [run_summary(run) for run in page],
            "next_cursor": encode_cursor(page[-1]) if more else None,
        }
    )


@bp.get("/<run_id>")
def get_run(run_id: str):
    with read(services().engine) as conn:
        run = runs_repo.get_run(conn, run_id)
        if run is None:
            raise ApiError(404, "not_found", "No such run.")
        return jsonify({"data": run_detail(conn, run)})


@bp.post("/<run_id>/redeliver")
def redeliver(run_id: str):
    with write(services().engine) as conn:
        run = runs_repo.get_run(conn, run_id)
        if run is None:
            raise ApiError(404, "not_found", "No such run.")
        if not RunState(run["state"]).is_final:
            raise ApiError(409, "not_final", "The run has no final result to forward yet.")
        count = deliveries_repo.requeue_run_deliveries(conn, run_id, time.time())
        if count == 0:
            raise ApiError(409, "no_deliveries", "This run had no forward targets.")
        detail = run_detail(conn, run)
    response = jsonify({"data": detail})
    response.status_code = 202
    return response
