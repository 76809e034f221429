"""Client API: the drop-in twin of upstream's stored-action run and result endpoints."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, jsonify, request, url_for

from app.api.auth import require_client
from app.api.bodies import load_body
from app.api.context import services, settings
from app.api.errors import ApiError
from app.runs.public_results import stored_action_answer
from app.runs.trigger import idempotency_id_for, refusal_error, trigger_run
from app.schemas.relay import RelayStoredActionsRunRequest
from app.store import runs_repo
from app.store.engine import read

bp = Blueprint("stored_actions", __name__, url_prefix="/actions/v1/stored-actions")


@bp.before_request
def _authenticate():
    require_client(settings())


def _uuid_param(name: str, value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ApiError(400, "bad_request", f"{name} must be a UUID", pointer=None) from None


@bp.post("/<stored_action_id>/run")
def trigger(stored_action_id: str):
    stored_action_id = _uuid_param("stored_action_id", stored_action_id)
    data = load_body(RelayStoredActionsRunRequest())["data"]
    idem = idempotency_id_for(data.get("idempotency_id"), request.headers.get("Idempotency-Key"))
    fields = {
        "stored_action_id": stored_action_id,
        "callback_url": data.get("callback_url"),
        "metadata": data.get("metadata"),
    }
    upstream_data = {"inputs": data["inputs"]}
    if "page" in data:
        upstream_data["page"] = data["page"]
    run = trigger_run(services(), "stored_action", fields, upstream_data, idem)
    if (error := refusal_error(run)) is not None:
        raise error
    response = jsonify({"data": {"type": "run", "id": run["id"]}})
    response.status_code = 202
    response.headers["Location"] = url_for(
        ".result", stored_action_id=stored_action_id, run_id=run["id"]
    )
    return response


@bp.get("/<stored_action_id>/runs/<run_id>")
def result(stored_action_id: str, run_id: str):
    with read(services().engine) as conn:
        run = runs_repo.get_run(conn, run_id)
    if run is None or run["kind"] != "stored_action" or run["stored_action_id"] != stored_action_id:
        raise ApiError(404, "not_found", "No run with this id for this stored action.")
    if (error := refusal_error(run)) is not None:
        raise error
    status, body = stored_action_answer(run)
    if body is None:
        return Response(status=status)
    response = jsonify(body)
    response.status_code = status
    return response
