"""Small builders shared by the OpenAPI document's path tables."""

from __future__ import annotations

from app.runs.public_results import PENDING_RETRY_AFTER_SECONDS
from app.schemas.json_types import NO_NUL_PATTERN

ERR = "ActionsErrorResponse"
UUID_PARAM = {"type": "string", "format": "uuid"}
# An id never holds NUL: such a path answers 400 naming the parameter.
ID_PARAM = {"type": "string", "pattern": NO_NUL_PATTERN}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Any string. A repeat with the same key and the same body returns the same "
    "run; the same key with another body answers 409.",
    "schema": {"type": "string"},
}
PENDING = {
    "description": "Still processing: no body, as upstream answers; ask again after Retry-After.",
    "headers": {
        "Retry-After": {
            "required": True,
            "description": f"Seconds to wait before asking again ({PENDING_RETRY_AFTER_SECONDS}).",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}
# Statuses an upstream refusal may pass through to the client, and the body-related ones.
REFUSALS = (400, 401, 402, 403, 404, 409, 422)
BODY_ERRORS = (413, 415)


def json_ref(ref: str) -> dict:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def responses(ok: dict, *errors: int) -> dict:
    """`ok` plus the error answers; an operation that checks a key (401) may also answer 429
    (too many wrong keys), and any that reads the store 503 (database unreachable)."""
    answers = dict(ok)
    extra = (429, 503) if 401 in errors else (503,)
    for status in sorted(set(errors) | set(extra)):
        answers[str(status)] = {"description": "Error", **json_ref(ERR)}
    return answers


def path_params(*names: str, fmt: dict | None = None) -> list[dict]:
    schema = fmt or ID_PARAM
    return [{"in": "path", "name": n, "required": True, "schema": schema} for n in names]


def parameter_metadata(converter, field, **kwargs) -> dict:
    """apispec hook: a query field's `metadata["parameter"]` holds attributes of the parameter
    itself, such as `style` and `explode` for a comma-separated list."""
    return dict(field.metadata.get("parameter", {}))
