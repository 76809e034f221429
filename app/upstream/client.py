"""HTTP client of the Actions API and the Partner API v2: one call in, one typed outcome out."""

from __future__ import annotations

import time
from urllib.parse import quote

from marshmallow import Schema, ValidationError

from app.schemas.action_runs import ActionRunResponse, RunActionResponse
from app.schemas.stored_actions import StoredActionResult, StoredActionsRunResponse
from app.schemas.zap_runs_contract import ZapRunsResponse
from app.upstream.answer_mapping import common_fields, to_accepted, to_failure, to_result
from app.upstream.outcomes import NotFound, Processing, TransportError, UpstreamOutcome
from app.upstream.transport import Transport, TransportFailure

# Both run POSTs document one success status each (202 and 200); any of these carries a run id.
ACCEPTED_STATUSES = (200, 201, 202)


class UpstreamClient:
    """Never sleeps, retries or follows a redirect: the caller decides when to call again.

    Every call ends within `total_timeout` seconds (or the shorter `deadline` it is given),
    connect, headers and body included: see app/upstream/transport.py.
    """

    def __init__(self, base_url: str, connect_timeout: float = 5.0, total_timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        # No Authorization here: each call carries its account's token (app/accounts/tokens.py).
        self._transport = Transport({"Accept": "application/json"}, connect_timeout, total_timeout)

    def run_stored_action(
        self, stored_action_id: str, data: dict, deadline: float | None = None, *, token: str
    ) -> UpstreamOutcome:
        """POST /actions/v1/stored-actions/{id}/run: Accepted(upstream run id) on 202."""
        path = f"/actions/v1/stored-actions/{_segment(stored_action_id)}/run"
        return self._post(path, data, StoredActionsRunResponse(), token, deadline)

    def get_stored_action_run(
        self, stored_action_id: str, run_id: str, *, token: str
    ) -> UpstreamOutcome:
        """GET /actions/v1/stored-actions/{id}/runs/{run_id}: Result, Processing or NotFound."""
        path = f"/actions/v1/stored-actions/{_segment(stored_action_id)}/runs/{_segment(run_id)}"
        return self._get(path, StoredActionResult(), token)

    def create_action_run(
        self, data: dict, deadline: float | None = None, *, token: str
    ) -> UpstreamOutcome:
        """POST /v2/action-runs: Accepted(upstream run id)."""
        return self._post("/v2/action-runs", data, RunActionResponse(), token, deadline)

    def get_action_run(self, run_id: str, *, token: str) -> UpstreamOutcome:
        """GET /v2/action-runs/{id}: Result (the whole `{"data": ...}` answer) or NotFound."""
        return self._get(f"/v2/action-runs/{_segment(run_id)}", ActionRunResponse(), token)

    def list_zap_runs(self, params: dict, *, token: str) -> UpstreamOutcome:
        """GET /v2/zap-runs: Result whose body is one page (links, meta, data)."""
        return self._get("/v2/zap-runs", ZapRunsPage(), token, params=params)

    def close(self) -> None:
        """Close the connection pool."""
        self._transport.close()

    def __enter__(self) -> UpstreamClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _post(
        self, path: str, data: dict, schema: Schema, token: str, deadline=None
    ) -> UpstreamOutcome:
        answer = self._send("POST", path, token, deadline, json={"data": data})
        if isinstance(answer, TransportError):
            return answer
        response, common, now = answer
        if response.status_code in ACCEPTED_STATUSES:
            return to_accepted(response, schema, common)
        return to_failure(response, common, now)

    def _get(
        self, path: str, schema: Schema, token: str, params: dict | None = None
    ) -> UpstreamOutcome:
        answer = self._send("GET", path, token, None, params=params)
        if isinstance(answer, TransportError):
            return answer
        response, common, now = answer
        if response.status_code == 200:
            return to_result(response, schema, common)
        if response.status_code == 202:
            return Processing(**common)
        outcome = to_failure(response, common, now)
        # The v2 contract lists no 404: a missing run answers 400 with code "not_found".
        status = response.status_code
        if status == 404 or (status == 400 and _has_code(outcome.errors, "not_found")):
            return NotFound(errors=outcome.errors, **common)
        return outcome

    def _send(self, method: str, path: str, token: str, deadline: float | None, **kwargs):
        """(answer, common outcome fields, now) or a TransportError when no answer came."""
        started = time.monotonic()
        headers = {"Authorization": f"Bearer {token}"}
        try:
            answer = self._transport.request(
                method, self.base_url + path, deadline, headers=headers, **kwargs
            )
        except TransportFailure as failure:
            kind = "timeout" if failure.timeout else "connection error"
            return TransportError(f"{kind}: {failure}", latency_ms=_elapsed_ms(started))
        now = time.time()
        return answer, common_fields(answer, _elapsed_ms(started), now), now


class ZapRunsPage:
    """The contract's 200 is an array holding one ZapRunsResponse; a bare page is taken too."""

    def load(self, data):
        if isinstance(data, list):
            if len(data) > 1:
                raise ValidationError("expected one page in the array")
            return ZapRunsResponse(many=True).load(data)
        return ZapRunsResponse().load(data)


def _segment(value: str) -> str:
    # An id is one path segment: a "/" or "?" in it must not reach another endpoint.
    return quote(str(value), safe="")


def _has_code(errors: list[dict], code: str) -> bool:
    return any(isinstance(entry, dict) and entry.get("code") == code for entry in errors)


def _elapsed_ms(started: float) -> float:
    return (time.monotonic() - started) * 1000.0
