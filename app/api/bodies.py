"""Request bodies and query strings loaded with a schema, with 400s in the one error shape."""

from __future__ import annotations

from dataclasses import replace

from flask import request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import InvalidInput, UnsupportedMediaType, validation_problems
from app.schemas.json_types import is_storable
from app.schemas.loading import json_object, load_value

UNSTORABLE = "Strings must not contain U+0000 or an unpaired UTF-16 surrogate."


def request_body() -> bytes:
    """The whole body, or 413: werkzeug cuts a chunked body at the limit without a word."""
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    at_limit = limit is not None and request.content_length is None and len(raw) >= limit
    if at_limit and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()
    return raw


def load_body(schema: Schema) -> dict:
    """The body loaded with `schema`. NUL and lone surrogates are refused by the fields that
    go to a column (schemas/json_types.py); inside `inputs` or `metadata` they are kept: those
    are stored and sent as JSON text, where they stay escapes."""
    raw = request_body()
    if raw:  # no body at all is simply not a JSON object (400 below)
        _require_json()
    return load_value(schema, json_object(raw))


def load_query(schema: Schema) -> dict:
    if not all(is_storable(text) for pair in request.args.items(multi=True) for text in pair):
        raise InvalidInput("invalid", UNSTORABLE)
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as err:
        problems = [
            replace(problem, pointer=None, parameter=problem.pointer.lstrip("/"))
            for problem in validation_problems(err.messages)
        ]
        raise InvalidInput(problems=problems) from None


def refuse_unstorable_path() -> None:
    """A before_request hook: no id holds NUL, and PostgreSQL cannot even compare one: 400,
    as for a query parameter, naming the path parameter."""
    for name, value in (request.view_args or {}).items():
        if not is_storable(str(value)):
            raise InvalidInput("invalid", UNSTORABLE, parameter=name)


def _require_json() -> None:
    # A form or text/plain POST needs no CORS preflight: the client API reads JSON only.
    major, _, minor = request.mimetype.partition("/")
    if major != "application" or not (minor == "json" or minor.endswith("+json")):
        raise UnsupportedMediaType("unsupported_media_type", "Send the body as application/json.")
