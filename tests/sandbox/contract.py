"""Check a sandbox answer against the upstream OpenAPI files: status listed, body valid, headers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

# The repo is checked out with shared/ beside it.
CONTRACT_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "contract"
V1 = "actions-v1-stored-actions.yaml"
V2 = "partner-v2-action-runs.yaml"

OPERATIONS = {
    "createStoredActionRun": (V1, "/actions/v1/stored-actions/{stored_action_id}/run", "post"),
    "getStoredActionRun": (
        V1,
        "/actions/v1/stored-actions/{stored_action_id}/runs/{run_id}",
        "get",
    ),
    "create-action-run": (V2, "/v2/action-runs", "post"),
    "retrieve-action-run": (V2, "/v2/action-runs/{id}", "get"),
}
# The one documented exception: v1 lists no 401, but a request without a bearer token gets
# one, in the same error shape as the listed errors.
UNLISTED_401 = {
    "createStoredActionRun": "#/components/schemas/ActionsErrorResponse",
    "getStoredActionRun": "#/components/schemas/ActionsErrorResponse",
}
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names as sent; look up with header()
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    @property
    def json(self):
        return json.loads(self.body) if self.body else None


def contract_available() -> bool:
    return (CONTRACT_DIR / V1).is_file() and (CONTRACT_DIR / V2).is_file()


@cache
def _document(name: str) -> dict:
    return yaml.safe_load((CONTRACT_DIR / name).read_text())


def _follow(doc: dict, node: dict) -> dict:
    """A response object, following a `$ref` into components/responses."""
    while "$ref" in node:
        target = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def check_answer(operation: str, answer: Answer) -> None:
    """Assert the answer is one the contract allows for `operation` (plus the 401 exception)."""
    file, path, method = OPERATIONS[operation]
    doc = _document(file)
    responses = doc["paths"][path][method]["responses"]
    status = str(answer.status)
    if status in responses:
        response = _follow(doc, responses[status])
        content = response.get("content", {}).get("application/json")
        schema_ref = content["schema"]["$ref"] if content else None
    else:
        assert operation in UNLISTED_401 and status == "401", (
            f"{operation} answered {status}, which the contract does not list: {answer.body!r}"
        )
        schema_ref = UNLISTED_401[operation]
    if schema_ref is None:
        # A response with no content (v1's 202): nothing, or an empty object.
        assert answer.body.strip() in (b"", b"{}"), answer.body
    else:
        _validator(file, schema_ref).validate(answer.json)
    for name in RATE_HEADERS:
        value = answer.header(name)
        assert value is not None and value.isdigit(), f"{name}: {value!r} on {status}"
    if answer.status in (429, 503):
        retry_after = answer.header("Retry-After")
        assert retry_after is not None and retry_after.isdigit(), retry_after


@cache
def _validator(file: str, schema_ref: str) -> Draft202012Validator:
    doc = _document(file)
    schema = {"$ref": schema_ref, "components": doc["components"]}
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
