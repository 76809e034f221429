"""Loading untrusted JSON: bytes to an object to a schema, every failure a 400-kind refusal."""

from __future__ import annotations

import json

from marshmallow import Schema, ValidationError

from app.errors import InvalidInput, MalformedBody


def json_object(raw: bytes) -> dict:
    """Parse `raw` as a JSON object; anything else is MalformedBody, never a crash."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedBody("parse_error", "The body is not valid UTF-8 JSON.") from None
    if not isinstance(value, dict):
        raise MalformedBody("parse_error", "The body must be a JSON object.", pointer="")
    return value


def load_value(schema: Schema, value, pointer_prefix: str = ""):
    try:
        return schema.load(value)
    except ValidationError as err:
        raise InvalidInput.from_messages(err.messages, pointer_prefix) from None
    except RecursionError:
        raise MalformedBody("parse_error", "The body is nested too deeply.") from None
