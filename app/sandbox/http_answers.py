"""HTTP helpers shared by the sandbox blueprints: the app's Sandbox, JSON answers, error answers."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from app.errors import (
    INTERNAL_ERROR,
    error_entry,
    flatten_messages,
    framework_refusal,
    validation_problems,
)
from app.sandbox.service import Sandbox

EXTENSION_KEY = "sandbox"
log = logging.getLogger(__name__)


def current_sandbox() -> Sandbox:
    return current_app.extensions[EXTENSION_KEY]


class SandboxError(Exception):
    """An answer in the contract's error shape, raised by the sandbox's views."""

    def __init__(self, status: int, errors: list[dict], headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.errors = errors
        self.headers = headers or {}

    @classmethod
    def single(
        cls,
        status: int,
        code: str,
        detail: str,
        *,
        title=None,
        pointer=None,
        parameter=None,
        headers=None,
    ) -> SandboxError:
        entry = error_entry(status, code, detail, pointer=pointer, parameter=parameter, title=title)
        return cls(status, [entry], headers)

    def response(self) -> Response:
        answer = json_answer({"errors": self.errors}, self.status)
        answer.headers.update(self.headers)
        return answer


def json_answer(body: Any, status: int) -> Response:
    return json_text(json.dumps(body), status)


def json_text(text: str, status: int) -> Response:
    return current_app.response_class(text, status=status, mimetype="application/json")


def parse_json_body(code: str) -> Any:
    """The request body as JSON, whatever its Content-Type claims; 400 if it is not JSON."""
    try:
        return json.loads(request.get_data(cache=False))
    except (ValueError, UnicodeDecodeError):
        raise SandboxError.single(400, code, "Malformed request: the body is not JSON.") from None


def load_with(schema: Schema, body: Any, pointer_prefix: str = "") -> dict:
    """The body loaded by a contract schema; a 400 naming every bad field otherwise."""
    try:
        return schema.load(body)
    except ValidationError as err:
        problems = validation_problems(err.messages, pointer_prefix)
        raise SandboxError(400, [problem.entry(400) for problem in problems]) from None


def path_uuid(value: str, parameter: str, *, status: int = 400, code: str = "bad_request") -> str:
    """A path parameter that the contract types as a UUID, in canonical form."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise SandboxError.single(
            status, code, f"{parameter} must be a UUID, got {value!r}.", parameter=parameter
        ) from None


def load_query(schema: Schema) -> dict:
    """The query string loaded by `schema`; otherwise a 400 as upstream gives it (code
    parse_error, title ParseError), one error per bad parameter, named in source.parameter."""
    args = request.args
    problems = [
        (name, "Given more than once; separate several values with commas.")
        for name in args
        if name in schema.fields and len(args.getlist(name)) > 1
    ]
    loaded: dict = {}
    try:
        loaded = schema.load(args.to_dict())
    except ValidationError as err:
        problems += [(where.lstrip("/"), text) for where, text in flatten_messages(err.messages)]
    if problems:
        raise SandboxError(400, [_parse_error(name, text) for name, text in problems])
    return loaded


def _parse_error(parameter: str, text: str) -> dict:
    return error_entry(
        400, "parse_error", f"{parameter}: {text}", parameter=parameter, title="ParseError"
    )


def init_error_handlers(app: Flask) -> None:
    """A standalone sandbox app's own errors (no such path, wrong method, too large, a crash)
    in the one shape, as the relay's app answers them under /sandbox."""
    app.register_error_handler(HTTPException, _framework_error)
    app.register_error_handler(Exception, _crash)


def _framework_error(err: HTTPException) -> Response:
    status = err.code or 500
    allowed = err.valid_methods if isinstance(err, MethodNotAllowed) else None
    entries, headers = framework_refusal(status, err.description, allowed)
    return _errors_answer(status, entries, headers)


def _crash(err: Exception) -> Response:
    log.exception("unhandled error")
    return _errors_answer(500, [INTERNAL_ERROR.entry(500)], {})


def _errors_answer(status: int, entries: list[dict], headers: dict[str, str]) -> Response:
    answer = jsonify({"errors": entries})
    answer.status_code = status
    answer.headers.update(headers)
    return answer
