"""Operations: liveness, readiness, and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.api.auth import require_bearer
from app.api.context import services, settings
from app.errors import Unavailable
from app.store.engine import DatabaseError, ping
from app.store.schema_version import SchemaNotCurrent

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    current = settings()
    try:
        ping(services().engine)
    except DatabaseError as err:
        detail = f"database unreachable: {type(err).__name__}"
        raise Unavailable("not_ready", detail, meta={"mode": current.mode}) from None
    except SchemaNotCurrent as err:  # one line that names `relay db upgrade`
        raise Unavailable("not_ready", str(err), meta={"mode": current.mode}) from None
    return jsonify(
        {
            "status": "ready",
            "mode": current.mode,
            "upstream": current.zapier_api_base,
            "database": services().engine.dialect.name,
            "callback_signature_check": bool(current.zapier_callback_jwks_url),
            # CALLBACKS as resolved at start: "off" means no callback_url, polling only.
            "callbacks": {"state": current.callbacks, "reason": current.callbacks_reason},
        }
    )


@bp.get("/metrics")
def metrics():
    from prometheus_client import CONTENT_TYPE_LATEST

    token = settings().metrics_token
    if token:
        require_bearer((token,), "Unknown metrics token.")
    from app.observability.metrics import render

    return Response(render(services()), content_type=CONTENT_TYPE_LATEST)


@bp.get("/openapi.json")
def openapi():
    from app.api.openapi.document import build_spec

    return jsonify(build_spec().to_dict())
