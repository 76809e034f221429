"""Loading untrusted JSON: bytes to an object to a schema, every failure an ApiError 400."""

from __future__ import annotations

import json

from marshmallow import Schema, ValidationError

from app.api.errors import ApiError, validation_error


def json_object(raw: bytes) -> dict:
    """Parse `raw` as a JSON object; anything else is a 400, never a 500."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "parse_error", "The body is not valid UTF-8 JSON.") from None
    if not isinstance(value, dict):
        raise ApiError(400, "parse_error", "The body must be a JSON object.", pointer="")
    return value


def load_value(schema: Schema, value, pointer_prefix: str = ""):
    try:
        return schema.load(value)
    except ValidationError as err:
        raise validation_error(err, pointer_prefix) from None
    except RecursionError:
        raise ApiError(400, "parse_error", "The body is nested too deeply.") from None
