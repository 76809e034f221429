"""Client API: the twin of upstream's v2 Action Runs endpoints (no upstream callback: polled)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from app.api.auth import require_client
from app.api.bodies import load_body
from app.api.context import services, settings
from app.api.errors import ApiError
from app.runs.public_results import action_run_answer
from app.runs.trigger import idempotency_id_for, refusal_error, trigger_run
from app.schemas.relay import RelayRunActionRequest
from app.store import runs_repo
from app.store.engine import read

bp = Blueprint("action_runs", __name__, url_prefix="/v2/action-runs")


@bp.before_request
def _authenticate():
    require_client(settings())


@bp.post("")
def create():
    data = load_body(RelayRunActionRequest())["data"]
    idem = idempotency_id_for(None, request.headers.get("Idempotency-Key"))
    fields = {
        "action": data["action"],
        "authentication": data["authentication"],
        "callback_url": data.get("callback_url"),
        "metadata": data.get("metadata"),
    }
    upstream_data = {k: data[k] for k in ("action", "authentication", "inputs")}
    run = trigger_run(services(), "action_run", fields, upstream_data, idem)
    if (error := refusal_error(run)) is not None:
        raise error
    response = jsonify({"data": {"type": "run", "id": run["id"]}})
    response.headers["Location"] = url_for(".retrieve", run_id=run["id"])
    return response


@bp.get("/<run_id>")
def retrieve(run_id: str):
    with read(services().engine) as conn:
        run = runs_repo.get_run(conn, run_id)
    if run is None or run["kind"] != "action_run":
        raise ApiError(404, "not_found", "No action run with this id.")
    if (error := refusal_error(run)) is not None:
        raise error
    status, body = action_run_answer(run)
    response = jsonify(body)
    response.status_code = status
    return response
