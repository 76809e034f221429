"""Small builders shared by the OpenAPI document's path tables."""

from __future__ import annotations

ERR = "ActionsErrorResponse"
UUID_PARAM = {"type": "string", "format": "uuid"}
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
    schema = fmt or {"type": "string"}
    return [{"in": "path", "name": n, "required": True, "schema": schema} for n in names]
