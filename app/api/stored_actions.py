"""Client API: the drop-in twin of upstream's stored-action run and result endpoints."""

from __future__ import annotations

import uuid

from flask import Response, jsonify, request, url_for

from app.api.auth import client_blueprint
from app.api.bodies import load_body
from app.api.context import services
from app.errors import InvalidInput
from app.runs.public_results import PENDING_RETRY_AFTER_SECONDS, stored_action_result
from app.runs.trigger import trigger_stored_action
from app.schemas.relay import RelayStoredActionsRunRequest
from app.schemas.stored_actions import StoredActionsRunResponse

bp = client_blueprint("stored_actions", __name__, "/actions/v1/stored-actions")
ACCEPTED = StoredActionsRunResponse()


def _uuid_param(name: str, value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidInput("bad_request", f"{name} must be a UUID") from None


@bp.post("/<stored_action_id>/run")
def trigger(stored_action_id: str):
    stored_action_id = _uuid_param("stored_action_id", stored_action_id)
    data = load_body(RelayStoredActionsRunRequest())["data"]
    key = request.headers.get("Idempotency-Key")
    run = trigger_stored_action(services(), stored_action_id, data, key)
    response = jsonify(ACCEPTED.dump({"data": {"type": "run", "id": run["id"]}}))
    response.status_code = 202
    response.headers["Location"] = url_for(
        ".result", stored_action_id=stored_action_id, run_id=run["id"]
    )
    return response


@bp.get("/<stored_action_id>/runs/<run_id>")
def result(stored_action_id: str, run_id: str):
    body = stored_action_result(services(), stored_action_id, run_id)
    if body is None:
        # Still processing: upstream answers 202 with no body; the twin adds when to ask again.
        return Response(status=202, headers={"Retry-After": str(PENDING_RETRY_AFTER_SECONDS)})
    # Upstream's body passed through as stored: a schema dump would drop its unknown fields.
    return jsonify(body)
