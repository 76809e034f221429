"""Request bodies and query strings loaded with a schema, with 400s in the one error shape."""

from __future__ import annotations

from dataclasses import replace

from flask import request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import InvalidInput, NotFound, UnsupportedMediaType, validation_problems
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
    raw = request_body()
    if raw:  # no body at all is simply not a JSON object (400 below)
        _require_json()
    value = json_object(raw)
    if b"\\u" in raw:  # only a \u escape brings NUL or a lone surrogate into valid JSON
        _refuse_unstorable(value)
    return load_value(schema, value)


def load_query(schema: Schema) -> dict:
    if any(_unstorable(text) for pair in request.args.items(multi=True) for text in pair):
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
    """A before_request hook: no id holds NUL, and PostgreSQL cannot even compare one."""
    if any(_unstorable(str(value)) for value in (request.view_args or {}).values()):
        raise NotFound("not_found", "No such resource.")


def _require_json() -> None:
    # A form or text/plain POST needs no CORS preflight: the client API reads JSON only.
    major, _, minor = request.mimetype.partition("/")
    if major != "application" or not (minor == "json" or minor.endswith("+json")):
        raise UnsupportedMediaType("unsupported_media_type", "Send the body as application/json.")


def _refuse_unstorable(value) -> None:
    stack = [value]
    while stack:  # iterative: the body may be nested nearly as deep as the parser allows
        item = stack.pop()
        if isinstance(item, str) and _unstorable(item):
            raise InvalidInput("invalid", UNSTORABLE)
        if isinstance(item, dict):
            stack.extend(item.items())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def _unstorable(text: str) -> bool:
    """Text that neither SQLite (UTF-8) nor PostgreSQL (no NUL) can store."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
