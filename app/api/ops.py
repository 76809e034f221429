"""Operations: liveness, readiness, and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.context import services, settings
from app.errors import error_entry, error_response

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    current = settings()
    try:
        with services().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as err:
        detail = f"database unreachable: {type(err).__name__}"
        return error_response(
            503, [error_entry(503, "not_ready", detail, meta={"mode": current.mode})]
        )
    return jsonify(
        {
            "status": "ready",
            "mode": current.mode,
            "upstream": current.zapier_api_base,
            "database": services().engine.dialect.name,
            "callback_signature_check": bool(current.zapier_callback_jwks_url),
        }
    )


@bp.get("/metrics")
def metrics():
    from prometheus_client import CONTENT_TYPE_LATEST

    from app.metrics import render

    return Response(render(services()), content_type=CONTENT_TYPE_LATEST)


@bp.get("/openapi.json")
def openapi():
    from app.openapi import build_spec

    return jsonify(build_spec(settings()).to_dict())
