"""The one error shape, {"errors": [{status, code, title, detail, source, meta}]}."""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answer: raised by views and services, rendered in the upstream error shape."""

    def __init__(self, status, code, detail, *, pointer=None, title=None, meta=None, headers=None):
        super().__init__(detail)
        self.status = status
        self.errors = [error_entry(status, code, detail, pointer=pointer, title=title, meta=meta)]
        self.headers = headers or {}

    @classmethod
    def from_entries(cls, status: int, errors: list[dict], headers=None) -> ApiError:
        err = cls(status, "error", "")
        err.errors = errors
        err.headers = headers or {}
        return err


def error_entry(status, code, detail, *, pointer=None, title=None, meta=None) -> dict:
    return {
        "status": status,
        "code": code,
        "title": title or HTTPStatus(status).phrase,
        "detail": detail,
        "source": {"pointer": pointer} if pointer is not None else None,
        "meta": meta or {},
    }


def flatten_messages(messages, prefix: str = "") -> list[tuple[str, str]]:
    """Turn marshmallow's nested messages into (JSON pointer, message) pairs."""
    if isinstance(messages, dict):
        pairs = []
        for key, value in messages.items():
            pointer = prefix if key == "_schema" else f"{prefix}/{_escape(key)}"
            pairs.extend(flatten_messages(value, pointer))
        return pairs
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(prefix or "/", " ".join(messages))]
    if isinstance(messages, list):
        pairs = []
        for item in messages:
            pairs.extend(flatten_messages(item, prefix))
        return pairs
    return [(prefix or "/", str(messages))]


def _escape(key) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def validation_error(err: ValidationError, pointer_prefix: str = "") -> ApiError:
    entries = [
        error_entry(400, "invalid", message, pointer=pointer, title="Invalid field")
        for pointer, message in flatten_messages(err.messages, pointer_prefix)
    ]
    return ApiError.from_entries(400, entries)


def error_response(status: int, errors: list[dict], headers=None):
    response = jsonify({"errors": errors})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    """Render every error, Flask's own included, in the one shape."""

    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        return error_response(err.status, err.errors, err.headers)

    @app.errorhandler(ValidationError)
    def _validation(err: ValidationError):
        api = validation_error(err)
        return error_response(api.status, api.errors)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        code = HTTPStatus(status).phrase.lower().replace(" ", "_")
        detail = err.description or HTTPStatus(status).description
        headers = {}
        if status == 405 and hasattr(err, "valid_methods") and err.valid_methods:
            headers["Allow"] = ", ".join(err.valid_methods)
        return error_response(status, [error_entry(status, code, detail)], headers)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error")
        return error_response(
            500, [error_entry(500, "internal_error", "The relay failed to handle this request.")]
        )
