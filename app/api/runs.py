"""Client API: the relay's own view of runs (/v1/runs), and redelivery."""

from __future__ import annotations

from flask import jsonify

from app.api.auth import client_blueprint
from app.api.bodies import load_query
from app.api.context import services
from app.runs import listing, redelivery
from app.schemas.relay import RunEnvelope, RunPage, RunsQuery

bp = client_blueprint("runs", __name__, "/v1/runs")
PAGE = RunPage()
ENVELOPE = RunEnvelope()


@bp.get("")
def list_runs():
    return jsonify(PAGE.dump(listing.runs_page(services(), load_query(RunsQuery()))))


@bp.get("/<run_id>")
def get_run(run_id: str):
    return jsonify(ENVELOPE.dump({"data": listing.get_run(services(), run_id)}))


@bp.post("/<run_id>/redeliver")
def redeliver(run_id: str):
    response = jsonify(ENVELOPE.dump({"data": redelivery.redeliver(services(), run_id)}))
    response.status_code = 202
    return response
