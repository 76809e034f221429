"""Client API: Zap Runs watches (what to poll GET /v2/zap-runs for, and where to forward)."""

from __future__ import annotations

from flask import Response, jsonify

from app.api.auth import client_blueprint
from app.api.bodies import load_body
from app.api.context import services
from app.schemas.zap_watches import ZapWatchCreate, ZapWatchEnvelope, ZapWatchList, ZapWatchUpdate
from app.zap_runs import watches

bp = client_blueprint("zap_watches", __name__, "/v1/zap-watches")
ENVELOPE = ZapWatchEnvelope()
LIST = ZapWatchList()


@bp.get("")
def list_watches():
    return jsonify(LIST.dump({"data": watches.list_watches(services())}))


@bp.post("")
def create():
    row = watches.create_watch(services(), load_body(ZapWatchCreate()))
    response = jsonify(ENVELOPE.dump({"data": row}))
    response.status_code = 201
    return response


@bp.get("/<watch_id>")
def get_watch(watch_id: str):
    return jsonify(ENVELOPE.dump({"data": watches.get_watch(services(), watch_id)}))


@bp.patch("/<watch_id>")
def update(watch_id: str):
    row = watches.update_watch(services(), watch_id, load_body(ZapWatchUpdate()))
    return jsonify(ENVELOPE.dump({"data": row}))


@bp.delete("/<watch_id>")
def delete(watch_id: str):
    watches.delete_watch(services(), watch_id)
    return Response(status=204)
