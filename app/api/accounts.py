"""Client API: Zapier accounts (their tokens write-only, shown as fingerprints)."""

from __future__ import annotations

from flask import Response, jsonify

from app.accounts import service
from app.api.auth import client_blueprint
from app.api.bodies import load_body
from app.api.context import services
from app.schemas.accounts import AccountCreate, AccountEnvelope, AccountList, AccountUpdate

bp = client_blueprint("accounts", __name__, "/v1/accounts")
ENVELOPE = AccountEnvelope()
LIST = AccountList()


@bp.get("")
def list_accounts():
    return jsonify(LIST.dump({"data": service.list_accounts(services())}))


@bp.post("")
def create():
    row = service.create_account(services(), load_body(AccountCreate()))
    response = jsonify(ENVELOPE.dump({"data": row}))
    response.status_code = 201
    return response


@bp.get("/<account_id>")
def get_account(account_id: str):
    return jsonify(ENVELOPE.dump({"data": service.get_account(services(), account_id)}))


@bp.patch("/<account_id>")
def update(account_id: str):
    row = service.update_account(services(), account_id, load_body(AccountUpdate()))
    return jsonify(ENVELOPE.dump({"data": row}))


@bp.delete("/<account_id>")
def delete(account_id: str):
    service.delete_account(services(), account_id)
    return Response(status=204)
