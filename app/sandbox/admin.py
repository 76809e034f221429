"""Sandbox-only endpoints: knobs, reset, stats, and the JWKS that verifies callback signatures."""

from __future__ import annotations

from flask import Blueprint, Response, request

from app.sandbox.answers import SandboxError, current_sandbox, json_answer
from app.sandbox.knobs import KnobError

bp = Blueprint("admin", __name__)


@bp.errorhandler(SandboxError)
def _render(err: SandboxError) -> Response:
    return err.response()


@bp.get("/_admin/knobs")
def read_knobs() -> Response:
    return json_answer(current_sandbox().knobs(), 200)


@bp.patch("/_admin/knobs")
def change_knobs() -> Response:
    """A JSON object of knobs to change, for every process at once; all or nothing."""
    changes = request.get_json(silent=True, force=True)
    if not isinstance(changes, dict):
        raise SandboxError.single(400, "bad_request", "Expected a JSON object of knob values.")
    try:
        return json_answer(current_sandbox().change_knobs(changes), 200)
    except KnobError as err:
        pointer = f"/{err.name}" if err.name else None
        raise SandboxError.single(400, "invalid_knob", str(err), pointer=pointer) from None


@bp.post("/_admin/reset")
def reset() -> Response:
    """Forget runs, idempotency keys, callbacks, counters and knob changes (keys stay)."""
    sandbox = current_sandbox()
    sandbox.reset()
    return json_answer({"reset": True, "knobs": sandbox.knobs()}, 200)


@bp.get("/_admin/stats")
def stats() -> Response:
    return json_answer(current_sandbox().stats(), 200)


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    return json_answer(current_sandbox().signing_key().jwks(), 200)
