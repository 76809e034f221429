"""Client API: the relay's stored view of watched Zap runs, with the seed's filters and paging."""

from __future__ import annotations

from flask import jsonify

from app.api.auth import client_blueprint
from app.api.bodies import load_query
from app.api.context import services
from app.schemas.zap_watches import StoredZapRunsQuery
from app.zap_runs.watches import zap_runs_page

bp = client_blueprint("zap_runs", __name__, "/v1/zap-runs")


@bp.get("")
def list_zap_runs():
    # The stored runs are upstream's bodies, passed through: a dump would drop unknown fields.
    return jsonify(zap_runs_page(services(), load_query(StoredZapRunsQuery())))
