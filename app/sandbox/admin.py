"""Sandbox-only endpoints: knobs, reset, stats, zap runs, and the JWKS for callback signatures."""

from __future__ import annotations

from flask import Blueprint, Response, request

from app.sandbox.http_answers import (
    SandboxError,
    current_sandbox,
    json_answer,
    load_with,
    path_uuid,
)
from app.sandbox.knobs import KnobError
from app.sandbox.tokens import fingerprint
from app.sandbox.zap_runs_endpoint import TooManyRuns, ZapRunNotFound
from app.sandbox.zap_specs import ZapRunChange, ZapRunSpec
from app.schemas.zap_runs_contract import ZapRun

bp = Blueprint("admin", __name__)
_ZAP_RUN = ZapRun()
_ZAP_RUN_SPEC = ZapRunSpec()
_ZAP_RUN_SPECS = ZapRunSpec(many=True)
_ZAP_RUN_CHANGE = ZapRunChange()


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


@bp.get("/_admin/revoked-tokens")
def list_revoked_tokens() -> Response:
    """The fingerprints of the tokens that answer 401."""
    return json_answer({"data": current_sandbox().revoked_tokens()}, 200)


@bp.post("/_admin/revoked-tokens")
def revoke_token() -> Response:
    """{"token": "..."} or {"fingerprint": "..."}: that token answers 401 from now on, in every
    process, until DELETE /_admin/revoked-tokens/<fingerprint> or a reset."""
    body = request.get_json(silent=True, force=True)
    name = _fingerprint_of(body)
    current_sandbox().revoke_token(name)
    return json_answer({"fingerprint": name, "revoked": True}, 201)


@bp.delete("/_admin/revoked-tokens/<name>")
def restore_token(name: str) -> Response:
    if not current_sandbox().restore_token(name):
        raise SandboxError.single(404, "not_found", f"No revoked token {name}.")
    return json_answer({"fingerprint": name, "revoked": False}, 200)


def _fingerprint_of(body) -> str:
    if isinstance(body, dict) and isinstance(body.get("token"), str) and body["token"]:
        return fingerprint(body["token"])
    if isinstance(body, dict) and isinstance(body.get("fingerprint"), str) and body["fingerprint"]:
        return body["fingerprint"]
    raise SandboxError.single(
        400, "bad_request", 'Expected {"token": "..."} or {"fingerprint": "..."}.'
    )


@bp.post("/_admin/zap-runs")
def create_zap_runs() -> Response:
    """A ZapRunSpec object, or a JSON array of them: 201 {"data": [ZapRun, ...]}."""
    body = request.get_json(silent=True, force=True)
    if not isinstance(body, dict | list):
        raise SandboxError.single(400, "bad_request", "Expected a run spec or a list of them.")
    if isinstance(body, list):
        specs = load_with(_ZAP_RUN_SPECS, body)
    else:
        specs = [load_with(_ZAP_RUN_SPEC, body)]
    try:
        created = current_sandbox().zap_runs.create(specs)
    except TooManyRuns as err:
        raise SandboxError.single(400, "bad_request", str(err), pointer="/count") from None
    return json_answer({"data": _ZAP_RUN.dump(created, many=True)}, 201)


@bp.patch("/_admin/zap-runs/<run_id>")
def change_zap_run(run_id: str) -> Response:
    """A ZapRunChange (status, and optionally end_time, zap_title, steps, data_out):
    200 {"data": ZapRun}. The run no longer finishes on its own."""
    run_id = path_uuid(run_id, "run_id", status=404, code="not_found")
    change = load_with(_ZAP_RUN_CHANGE, request.get_json(silent=True, force=True))
    try:
        changed = current_sandbox().zap_runs.change(run_id, change)
    except ZapRunNotFound:
        raise SandboxError.single(404, "not_found", f"No zap run {run_id}.") from None
    return json_answer({"data": _ZAP_RUN.dump(changed)}, 200)


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    return json_answer(current_sandbox().signing_key().jwks(), 200)
