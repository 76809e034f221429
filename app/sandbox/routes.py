"""The simulated upstream endpoints (v1 stored actions, v2 action and zap runs): thin views."""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from app.sandbox.http_answers import (
    SandboxError,
    current_sandbox,
    json_answer,
    json_text,
    load_query,
    load_with,
    parse_json_body,
    path_uuid,
)
from app.sandbox.outcome import ACTION_RUN, STORED_ACTION
from app.sandbox.service import RunNotFound
from app.schemas.action_runs import RunActionRequest, RunActionResponse
from app.schemas.stored_actions import (
    StoredActionsRunRequest,
    StoredActionsRunRequestInput,
    StoredActionsRunResponse,
)
from app.schemas.zap_runs_contract import ZapRunsQuery, ZapRunsResponse

bp = Blueprint("api", __name__)

_V1_REQUEST = StoredActionsRunRequest()
_V1_ACCEPTED = StoredActionsRunResponse()
_V2_REQUEST = RunActionRequest()
_V2_ACCEPTED = RunActionResponse()
# v2 has no callback_url; with the v2_callbacks knob on it is checked like v1's.
_V2_CALLBACK = StoredActionsRunRequestInput(only=("callback_url",))
_ZAP_RUNS_QUERY = ZapRunsQuery()
_ZAP_RUNS_ANSWER = ZapRunsResponse(many=True)
_PAGING = ("limit", "offset")


@bp.before_request
def _admit() -> None:
    """Auth, then the rate window, then fault bursts: the order upstream answers in."""
    sandbox = current_sandbox()
    sandbox.ensure_started()
    bucket = "get" if request.method == "GET" else "run"
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        # Not admitted, so not counted; the headers still tell the window's state.
        g.sandbox_rate = sandbox.peek(bucket)
        raise SandboxError.single(
            401, "not_authenticated", "Send Authorization: Bearer <token>.", title="Unauthorized"
        )
    # Each token has its own windows and limit (its JWT's rate_limit claim, or the knobs).
    g.sandbox_rate, g.sandbox_knobs = sandbox.admit(bucket, token)
    decision = g.sandbox_rate
    if decision.revoked:
        raise SandboxError.single(
            401,
            "authentication_failed",
            "Incorrect authentication credentials: this token was revoked (sandbox).",
            title="Unauthorized",
        )
    if not decision.admitted:
        raise SandboxError.single(
            429,
            "too_many_requests",
            "Rate limit exceeded. Too many requests.",
            headers={"Retry-After": str(decision.retry_after)},
        )
    if decision.burst == 429:
        raise SandboxError.single(
            429,
            "too_many_requests",
            "Rate limit exceeded (sandbox burst).",
            headers={"Retry-After": "1"},
        )
    if decision.burst == 503:
        # The code is spelled as in the contract's own example.
        raise SandboxError.single(
            503,
            "service_unavaiable",
            "Service is temporarily unavailable (sandbox burst).",
            headers={"Retry-After": "1"},
        )


@bp.after_request
def _rate_headers(response: Response) -> Response:
    decision = g.get("sandbox_rate")
    if decision is not None:
        response.headers.update(decision.headers())
    return response


@bp.errorhandler(SandboxError)
def _render(err: SandboxError) -> Response:
    return err.response()


@bp.post("/actions/v1/stored-actions/<stored_action_id>/run")
def run_stored_action(stored_action_id: str) -> Response:
    stored_action_id = path_uuid(stored_action_id, "stored_action_id")
    data = load_with(_V1_REQUEST, parse_json_body("bad_request"))["data"]
    run_id = current_sandbox().create_run(
        STORED_ACTION,
        g.sandbox_knobs,
        stored_action_id=stored_action_id,
        idempotency_id=data.get("idempotency_id"),
        inputs=data.get("inputs"),
        page=data.get("page"),
        callback_url=data.get("callback_url"),
    )
    return json_answer(_V1_ACCEPTED.dump({"data": {"type": "run", "id": run_id}}), 202)


@bp.get("/actions/v1/stored-actions/<stored_action_id>/runs/<run_id>")
def get_stored_action_run(stored_action_id: str, run_id: str) -> Response:
    stored_action_id = path_uuid(stored_action_id, "stored_action_id")
    run_id = path_uuid(run_id, "run_id")
    try:
        done, body = current_sandbox().find_result(
            STORED_ACTION, run_id, g.sandbox_knobs, stored_action_id
        )
    except RunNotFound:
        raise SandboxError.single(
            404, "not_found", "No results found for this run.", title="Resource not found."
        ) from None
    # The contract gives 202 no body; "{}" keeps clients that always parse JSON working.
    return json_text(body if done else "{}", 200 if done else 202)


@bp.post("/v2/action-runs")
def create_action_run() -> Response:
    body = parse_json_body("parse_error")
    callback_url = None
    data = body.get("data") if isinstance(body, dict) else None
    if g.sandbox_knobs["v2_callbacks"] and isinstance(data, dict) and "callback_url" in data:
        data = dict(data)
        checked = load_with(_V2_CALLBACK, {"callback_url": data.pop("callback_url")}, "/data")
        callback_url = checked["callback_url"]
        body = {**body, "data": data}
    # Otherwise callback_url is an unknown field, and RunActionRequest refuses it (400).
    data = load_with(_V2_REQUEST, body)["data"]
    run_id = current_sandbox().create_run(
        ACTION_RUN, g.sandbox_knobs, inputs=data["inputs"], callback_url=callback_url
    )
    return json_answer(_V2_ACCEPTED.dump({"data": {"type": "run", "id": run_id}}), 200)


@bp.get("/v2/action-runs/<run_id>")
def get_action_run(run_id: str) -> Response:
    # The v2 contract lists no 404 for this operation, so an unknown (or malformed, or
    # expired) id is a 400 whose error code is not_found: a client can tell it apart.
    try:
        run_id = path_uuid(run_id, "id", code="not_found")
        _, body = current_sandbox().find_result(ACTION_RUN, run_id, g.sandbox_knobs)
    except RunNotFound:
        raise SandboxError.single(
            400, "not_found", "No action run with this id.", parameter="id"
        ) from None
    return json_text(body, 200)


@bp.get("/v2/zap-runs")
def list_zap_runs() -> Response:
    """Newest start_time first, then id; a limit above 100 is answered as 100."""
    query = load_query(_ZAP_RUNS_QUERY)
    filters = {
        name: request.args[name]
        for name in _ZAP_RUNS_QUERY.fields
        if name in request.args and name not in _PAGING
    }
    page = current_sandbox().zap_runs.page(query, g.sandbox_knobs, request.base_url, filters)
    # The contract's 200 body is a JSON array holding the one page object.
    return json_answer(_ZAP_RUNS_ANSWER.dump([page]), 200)
