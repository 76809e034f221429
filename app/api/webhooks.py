"""Client API: forward targets (subscriptions) with their own signing secrets and filters."""

from __future__ import annotations

from flask import Response, jsonify

from app.api.auth import client_blueprint
from app.api.bodies import load_body
from app.api.context import services
from app.delivery import recovery, targets
from app.schemas.operator import RecoveredEnvelope, RecoverRequest, RotatedEnvelope
from app.schemas.relay import WebhookCreate, WebhookEnvelope, WebhookList, WebhookUpdate

bp = client_blueprint("webhooks", __name__, "/v1/webhooks")
ENVELOPE = WebhookEnvelope()
LIST = WebhookList()
RECOVERED = RecoveredEnvelope()
ROTATED = RotatedEnvelope()


@bp.get("")
def list_webhooks():
    return jsonify(LIST.dump({"data": targets.list_targets(services())}))


@bp.post("")
def create_webhook():
    row = targets.create_target(services(), load_body(WebhookCreate()))
    response = jsonify(ENVELOPE.dump({"data": row}))
    response.status_code = 201
    return response


@bp.get("/<webhook_id>")
def get_webhook(webhook_id: str):
    return jsonify(ENVELOPE.dump({"data": targets.get_target(services(), webhook_id)}))


@bp.patch("/<webhook_id>")
def update_webhook(webhook_id: str):
    row = targets.update_target(services(), webhook_id, load_body(WebhookUpdate()))
    return jsonify(ENVELOPE.dump({"data": row}))


@bp.delete("/<webhook_id>")
def delete_webhook(webhook_id: str):
    targets.delete_target(services(), webhook_id)
    return Response(status=204)


@bp.post("/<webhook_id>/recover")
def recover(webhook_id: str):
    window = load_body(RecoverRequest())
    until = window.get("until")
    queued = recovery.recover(
        services(), webhook_id, window["since"].timestamp(), until.timestamp() if until else None
    )
    response = jsonify(RECOVERED.dump({"data": queued}))
    response.status_code = 202
    return response


@bp.post("/<webhook_id>/rotate-secret")
def rotate_secret(webhook_id: str):
    return jsonify(ROTATED.dump({"data": targets.rotate_secret(services(), webhook_id)}))
