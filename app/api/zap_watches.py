"""Client API: Zap Runs watches (what to poll GET /v2/zap-runs for, and where to forward)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.api.auth import require_client
from app.api.bodies import load_body
from app.api.context import services, settings
from app.api.errors import ApiError
from app.schemas.zap_watches import ZapWatchCreate, ZapWatchUpdate
from app.store import zap_repo
from app.store.engine import read, write
from app.zap_runs.watches import create_watch, found, update_watch, watch_view

bp = Blueprint("zap_watches", __name__, url_prefix="/v1/zap-watches")


@bp.before_request
def _authenticate():
    require_client(settings())


@bp.get("")
def list_watches():
    with read(services().engine) as conn:
        rows = zap_repo.list_watches(conn)
    return jsonify({"data": [watch_view(row) for row in rows]})


@bp.post("")
def create():
    values = load_body(ZapWatchCreate())
    with write(services().engine) as conn:
        row = create_watch(conn, values)
    response = jsonify({"data": watch_view(row)})
    response.status_code = 201
    return response


@bp.get("/<watch_id>")
def get_watch(watch_id: str):
    with read(services().engine) as conn:
        return jsonify({"data": watch_view(found(zap_repo.get_watch(conn, watch_id)))})


@bp.patch("/<watch_id>")
def update(watch_id: str):
    values = load_body(ZapWatchUpdate())
    with write(services().engine) as conn:
        row = update_watch(conn, watch_id, values)
    return jsonify({"data": watch_view(row)})


@bp.delete("/<watch_id>")
def delete(watch_id: str):
    with write(services().engine) as conn:
        if not zap_repo.delete_watch(conn, watch_id):
            raise ApiError(404, "not_found", "No such watch.")
    return Response(status=204)
