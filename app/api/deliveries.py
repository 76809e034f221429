"""Client API: every delivery (runs, Zap run events, operational events) and redelivery."""

from __future__ import annotations

from flask import jsonify

from app.api.auth import client_blueprint
from app.api.bodies import load_query
from app.api.context import services
from app.delivery import listing
from app.schemas.operator import DeliveriesQuery, DeliveryEnvelope, DeliveryPage

bp = client_blueprint("deliveries", __name__, "/v1/deliveries")
ENVELOPE = DeliveryEnvelope()
PAGE = DeliveryPage()


@bp.get("")
def list_deliveries():
    page = listing.deliveries_page(services(), load_query(DeliveriesQuery()))
    return jsonify(PAGE.dump(page))


@bp.get("/<delivery_id>")
def get_delivery(delivery_id: str):
    return jsonify(ENVELOPE.dump({"data": listing.get_delivery(services(), delivery_id)}))


@bp.post("/<delivery_id>/redeliver")
def redeliver(delivery_id: str):
    view = listing.redeliver_delivery(services(), delivery_id)
    response = jsonify(ENVELOPE.dump({"data": view}))
    response.status_code = 202
    return response
