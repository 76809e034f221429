"""Upstream ids, paths and bodies as the contracts show them, and a helper to serve them."""

import json

TOKEN = "test-token-123"
SA_ID = "9d3f1c7e-0000-4000-8000-000000000001"
RUN_ID = "123e4567-e89b-12d3-a456-426614174000"
SA_RUN = f"/actions/v1/stored-actions/{SA_ID}/run"
SA_GET = f"/actions/v1/stored-actions/{SA_ID}/runs/{RUN_ID}"
V2_POST = "/v2/action-runs"
V2_GET = f"/v2/action-runs/{RUN_ID}"

RUN_ACCEPTED = {"data": {"type": "run", "id": RUN_ID}}
V1_RESULT = {
    "type": "run",
    "id": RUN_ID,
    "status": "success",
    "results": [{"key": "value"}],
    "next_page": "0",
    "errors": [],
}
V2_RESULT = {"data": {"type": "run", "status": "success", "results": [{"id": 123}], "errors": []}}


def error_body(status: int, code: str) -> dict:
    entry = {
        "status": status,
        "code": code,
        "title": "T",
        "detail": "D",
        "source": None,
        "meta": {},
    }
    return {"errors": [entry]}


def respond(httpserver, method, path, status, body=None, headers=None):
    """Serve `body` as JSON (or an empty body) with `status` and `headers` at `path`."""
    httpserver.expect_request(path, method=method).respond_with_data(
        "" if body is None else json.dumps(body),
        status=status,
        headers=headers or {},
        content_type="application/json",
    )
