"""Upstream-facing: POST /callbacks/<run_id>/<token>, answered 2xx only once stored."""

from flask import Blueprint, jsonify, request

from app.api.bodies import request_body
from app.api.context import services
from app.runs.callbacks import receive_callback
from app.schemas.relay import CallbackAck

bp = Blueprint("callbacks", __name__, url_prefix="/callbacks")
ACK = CallbackAck()


@bp.post("/<run_id>/<token>")
def receive(run_id: str, token: str):
    verdict = receive_callback(services(), run_id, token, request_body(), request.headers)
    return jsonify(ACK.dump({"data": {"run_id": run_id, "verdict": verdict}}))
