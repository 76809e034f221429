"""Client API: the relay's stored view of watched Zap runs, with the seed's filters and paging."""

from __future__ import annotations

from flask import Blueprint, jsonify

from app.api.auth import require_client
from app.api.bodies import load_query
from app.api.context import services, settings
from app.schemas.zap_runs_contract import ZapRunsQuery
from app.store.engine import read
from app.zap_runs.watches import zap_runs_page

bp = Blueprint("zap_runs", __name__, url_prefix="/v1/zap-runs")


@bp.before_request
def _authenticate():
    require_client(settings())


@bp.get("")
def list_zap_runs():
    query = load_query(ZapRunsQuery())
    with read(services().engine) as conn:
        page = zap_runs_page(conn, query, settings().public_base_url)
    return jsonify(page)
