"""Domain exceptions to HTTP in one table, and every error, Flask's own too, in the one shape."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from app.errors import (
    INTERNAL_ERROR,
    Conflict,
    Forbidden,
    InvalidInput,
    MalformedBody,
    NotFound,
    RelayError,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
    UnsupportedMediaType,
    UpstreamRefusal,
    framework_refusal,
)
from app.store.engine import DatabaseError

log = logging.getLogger(__name__)

# The one table: what each kind of refusal is in HTTP (subclasses take their parent's status).
STATUS_OF: dict[type[RelayError], int] = {
    InvalidInput: 400,
    MalformedBody: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    UnsupportedMediaType: 415,
    TooManyRequests: 429,
    Unavailable: 503,
    RelayError: 500,
}


def status_of(err: RelayError) -> int:
    match err:
        case UpstreamRefusal(status=status):
            return status  # upstream's own, passed through
    return next(STATUS_OF[cls] for cls in type(err).__mro__ if cls in STATUS_OF)


def error_response(status: int, errors: list[dict], headers=None):
    response = jsonify({"errors": errors})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def relay_error_response(err: RelayError):
    status = status_of(err)
    return error_response(status, err.entries(status), err.headers)


def framework_error_response(err: HTTPException):
    """Flask's own refusals (no such path, wrong method, too large) in the one shape."""
    status = err.code or 500
    allowed = err.valid_methods if isinstance(err, MethodNotAllowed) else None
    return error_response(status, *framework_refusal(status, err.description, allowed))


# A client that retries after this finds the database back in most blips; a longer outage
# answers the same again (and /readyz says 503 meanwhile).
DATABASE_RETRY_AFTER_SECONDS = 5


def database_down_response(err: DatabaseError):
    """Never a 500 for an outage: 503 with Retry-After, in the one shape. Nothing half-written:
    each write is one transaction, rolled back when the database fails."""
    log.warning("database unavailable: %s", type(err).__name__)
    refusal = Unavailable(
        "database_unavailable",
        "The relay's database is unreachable; retry later.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )
    return relay_error_response(refusal)


def crash_response(err: Exception):
    log.exception("unhandled error")
    return error_response(500, [INTERNAL_ERROR.entry(500)])


def init_app(app: Flask) -> None:
    """Render every error, Flask's own included, in the one shape."""
    app.register_error_handler(RelayError, relay_error_response)
    app.register_error_handler(
        ValidationError, lambda err: relay_error_response(InvalidInput.from_messages(err.messages))
    )
    app.register_error_handler(HTTPException, framework_error_response)
    app.register_error_handler(DatabaseError, database_down_response)
    app.register_error_handler(Exception, crash_response)
