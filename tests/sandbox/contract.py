"""Check a sandbox answer against the upstream OpenAPI files: status listed, body valid, headers."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, FormatChecker

# The repo is checked out with shared/ beside it.
CONTRACT_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "contract"
V1 = "actions-v1-stored-actions.yaml"
V2 = "partner-v2-action-runs.yaml"
ZAP_RUNS = "partner-v2-zap-runs.yaml"

OPERATIONS = {
    "createStoredActionRun": (V1, "/actions/v1/stored-actions/{stored_action_id}/run", "post"),
    "getStoredActionRun": (
        V1,
        "/actions/v1/stored-actions/{stored_action_id}/runs/{run_id}",
        "get",
    ),
    "create-action-run": (V2, "/v2/action-runs", "post"),
    "retrieve-action-run": (V2, "/v2/action-runs/{id}", "get"),
    "get-zap-runs": (ZAP_RUNS, "/v2/zap-runs", "get"),
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
    return all((CONTRACT_DIR / name).is_file() for name in (V1, V2, ZAP_RUNS))


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
        # Mostly a $ref; zap runs' 200 is an inline array of them.
        schema = json.dumps(content["schema"], sort_keys=True) if content else None
    else:
        assert operation in UNLISTED_401 and status == "401", (
            f"{operation} answered {status}, which the contract does not list: {answer.body!r}"
        )
        schema = json.dumps({"$ref": UNLISTED_401[operation]})
    if schema is None:
        # A response with no content (v1's 202): nothing, or an empty object.
        assert answer.body.strip() in (b"", b"{}"), answer.body
    else:
        _validator(file, schema).validate(answer.json)
    for name in RATE_HEADERS:
        value = answer.header(name)
        assert value is not None and value.isdigit(), f"{name}: {value!r} on {status}"
    if answer.status in (429, 503):
        retry_after = answer.header("Retry-After")
        assert retry_after is not None and retry_after.isdigit(), retry_after


@cache
def _validator(file: str, schema_json: str) -> Draft202012Validator:
    doc = _document(file)
    schema = {**json.loads(schema_json), "components": doc["components"]}
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_FORMATS)


# jsonschema checks date-time only with an optional package: check RFC 3339 here.
_FORMATS = FormatChecker()
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")


@_FORMATS.checks("date-time")
def _is_date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.fullmatch(value):
        return False
    try:
        dt.datetime.fromisoformat(value[:19])
    except ValueError:
        return False
    return True


def check_component(file: str, name: str, value) -> None:
    """Assert `value` is valid as the contract component `name` of `file`."""
    _validator(file, json.dumps({"$ref": f"#/components/schemas/{name}"})).validate(value)


def zap_run_statuses() -> tuple[str, ...]:
    """The statuses the zap-runs contract lists (the `statuses` parameter's enum)."""
    parameters = _document(ZAP_RUNS)["paths"]["/v2/zap-runs"]["get"]["parameters"]
    [statuses] = [p for p in parameters if p["name"] == "statuses"]
    return tuple(statuses["schema"]["items"]["enum"])
