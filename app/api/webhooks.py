"""Client API: forward targets (subscriptions) with their own signing secrets and filters."""

from __future__ import annotations

import base64
import secrets
import time

from flask import Blueprint, Response, jsonify

from app.api.auth import require_client
from app.api.bodies import load_body
from app.api.context import services, settings
from app.api.errors import ApiError
from app.delivery.run_events import iso
from app.delivery.ssrf_guard import UnsafeTarget, check_target
from app.schemas.relay import WebhookCreate, WebhookUpdate
from app.store import webhooks_repo
from app.store.engine import read, write

bp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks")


@bp.before_request
def _authenticate():
    require_client(settings())


def _view(row: dict, reveal: bool = False) -> dict:
    return {
        "id": row["id"],
        "url": row["url"],
        "secret": row["secret"] if reveal else row["secret"][:10] + "...",
        "stored_action_ids": row["stored_action_ids"],
        "statuses": row["statuses"],
        "enabled": row["enabled"],
        "origin": row["origin"],
        "disabled_reason": row["disabled_reason"],
        "created_at": iso(row["created_at"]),
    }


def _checked(values: dict) -> dict:
    if "url" in values:
        try:
            check_target(values["url"], settings().forward_allow_private)
        except UnsafeTarget as err:
            raise ApiError(400, "unsafe_target", str(err), pointer="/url") from None
    if values.get("enabled"):
        values["disabled_reason"] = None
    return values


def _found(row):
    if row is None:
        raise ApiError(404, "not_found", "No such webhook.")
    return row


@bp.get("")
def list_webhooks():
    with read(services().engine) as conn:
        rows = webhooks_repo.list_webhooks(conn)
    return jsonify({"data": [_view(row) for row in rows]})


@bp.post("")
def create_webhook():
    values = _checked(load_body(WebhookCreate()))
    values.setdefault("secret", "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
    with write(services().engine) as conn:
        row = webhooks_repo.create_webhook(conn, {**values, "origin": "api"}, time.time())
    response = jsonify({"data": _view(row, reveal=True)})
    response.status_code = 201
    return response


@bp.get("/<webhook_id>")
def get_webhook(webhook_id: str):
    with read(services().engine) as conn:
        return jsonify({"data": _view(_found(webhooks_repo.get_webhook(conn, webhook_id)))})


@bp.patch("/<webhook_id>")
def update_webhook(webhook_id: str):
    values = _checked(load_body(WebhookUpdate()))
    with write(services().engine) as conn:
        _found(webhooks_repo.get_webhook(conn, webhook_id))
        row = webhooks_repo.update_webhook(conn, webhook_id, values, time.time())
    # The caller just chose this secret: echoing it would only put it in one more log or proxy.
    return jsonify({"data": _view(row)})


@bp.delete("/<webhook_id>")
def delete_webhook(webhook_id: str):
    with write(services().engine) as conn:
        if not webhooks_repo.delete_webhook(conn, webhook_id):
            raise ApiError(404, "not_found", "No such webhook.")
    return Response(status=204)
