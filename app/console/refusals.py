"""Every refusal and failure inside the console as an HTML page, never the API's JSON."""

from __future__ import annotations

import logging

from flask import Blueprint, render_template
from werkzeug.exceptions import HTTPException

from app.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RelayError,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)
from app.store.engine import DatabaseError

log = logging.getLogger(__name__)
DATABASE_RETRY_AFTER_SECONDS = 5


def status_of(err: RelayError) -> int:
    match err:
        case InvalidInput():
            return 400
        case Unauthenticated():
            return 401
        case Forbidden():
            return 403
        case NotFound():
            return 404
        case Conflict():
            return 409
        case TooManyRequests():
            return 429
        case Unavailable():
            return 503
    return 500


def page(status: int, title: str, detail: str, headers: dict | None = None):
    body = render_template("console/error.html", status=status, title=title, detail=detail)
    return body, status, headers or {}


def relay_error_page(err: RelayError):
    status = status_of(err)
    return page(status, err.code.replace("_", " ").capitalize(), str(err), err.headers)


def framework_error_page(err: HTTPException):
    return page(err.code or 500, err.name, err.description or "")


def database_down_page(err: DatabaseError):
    log.warning("database unavailable: %s", type(err).__name__)
    retry = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    return page(503, "Database unavailable", "The relay's database is unreachable.", retry)


def crash_page(err: Exception):
    log.exception("unhandled error in the console")
    return page(500, "Internal error", "Something went wrong; the log has the details.")


def init_blueprint(bp: Blueprint) -> None:
    bp.register_error_handler(RelayError, relay_error_page)
    bp.register_error_handler(HTTPException, framework_error_page)
    bp.register_error_handler(DatabaseError, database_down_page)
    bp.register_error_handler(Exception, crash_page)
