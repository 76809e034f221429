"""Client API: the twin of upstream's v2 Action Runs endpoints (no upstream callback: polled)."""

from __future__ import annotations

from flask import jsonify, request, url_for

from app.api.auth import client_blueprint
from app.api.bodies import load_body
from app.api.context import services
from app.runs.public_results import action_run_result
from app.runs.trigger import trigger_action_run
from app.schemas.action_runs import RunActionResponse
from app.schemas.relay import RelayRunActionRequest

bp = client_blueprint("action_runs", __name__, "/v2/action-runs")
ACCEPTED = RunActionResponse()


@bp.post("")
def create():
    data = load_body(RelayRunActionRequest())["data"]
    run = trigger_action_run(services(), data, request.headers.get("Idempotency-Key"))
    response = jsonify(ACCEPTED.dump({"data": {"type": "run", "id": run["id"]}}))
    response.headers["Location"] = url_for(".retrieve", run_id=run["id"])
    return response


@bp.get("/<run_id>")
def retrieve(run_id: str):
    # Upstream's body passed through as stored: a schema dump would drop its unknown fields.
    return jsonify(action_run_result(services(), run_id))
