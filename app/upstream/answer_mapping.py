"""Mapping of one upstream HTTP answer to its typed outcome, as the contracts' statuses say."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from marshmallow import Schema, ValidationError

from app.schemas.stored_actions import ActionsErrorResponse
from app.upstream.outcomes import (
    Accepted,
    Refused,
    Result,
    Throttled,
    TransportError,
    Unavailable,
    UpstreamOutcome,
)
from app.upstream.rate_headers import parse_rate_headers, parse_retry_after
from app.upstream.transport import HttpAnswer

# A 429 without Retry-After and without a usable X-RateLimit-Reset waits this long.
DEFAULT_THROTTLE_SECONDS = 60.0
EXCERPT_CHARS = 200


def common_fields(response: HttpAnswer, latency_ms: float, now: float) -> dict:
    """The fields every outcome of an answered call carries."""
    return {
        "status": response.status_code,
        "rate": parse_rate_headers(response.headers, now),
        "latency_ms": latency_ms,
    }


def to_accepted(response: HttpAnswer, schema: Schema, common: dict) -> UpstreamOutcome:
    """A run POST's 2xx: the body must name the upstream run id."""
    loaded, problem = _load(response, schema)
    if problem:
        return TransportError(problem, **common)
    run_id = loaded["data"].get("id")
    if run_id is None:
        return TransportError("invalid 2xx body: data.id is missing", **common)
    return Accepted(str(run_id), **common)


def to_result(response: HttpAnswer, schema: Schema, common: dict) -> UpstreamOutcome:
    """A GET's 200: the body as the contract schema loads it, unknown fields kept."""
    loaded, problem = _load(response, schema)
    if problem:
        return TransportError(problem, **common)
    return Result(body=loaded, raw=response.text, **common)


def to_failure(response: HttpAnswer, common: dict, now: float) -> UpstreamOutcome:
    """Any answer that is not the operation's success: redirect, 4xx, 429, 5xx, odd statuses."""
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
    if 300 <= status < 400:
        location = response.headers.get("Location", "")
        return TransportError(f"unexpected redirect ({status} to {location!r})", **common)
    if status == 429:
        return Throttled(_throttle_wait(retry_after, common["rate"], now), **common)
    if 500 <= status < 600:
        return Unavailable(retry_after, **common)
    if 400 <= status < 500:
        return Refused(errors=upstream_errors(response), **common)
    return TransportError(f"unexpected status {status}", **common)


def upstream_errors(response: HttpAnswer) -> list[dict]:
    """Upstream's `errors` list as sent, or one synthesized entry when the body is not so."""
    parsed = _parse_json(response.text)
    if isinstance(parsed, dict) and not ActionsErrorResponse().validate(parsed):
        return parsed["errors"]
    status = response.status_code
    return [
        {
            "status": status,
            "code": "upstream_error",
            "title": _reason(status),
            "detail": f"upstream answered {status}: {response.text[:EXCERPT_CHARS]!r}",
            "source": None,
            "meta": {},
        }
    ]


def _throttle_wait(retry_after: float | None, rate, now: float) -> float:
    if retry_after is not None:
        return retry_after
    if rate is not None and rate.reset_at is not None and rate.reset_at > now:
        return rate.reset_at - now
    return DEFAULT_THROTTLE_SECONDS


def _load(response: HttpAnswer, schema: Schema) -> tuple[Any, str | None]:
    """(loaded body, None) or (None, why the 2xx body is off the contract)."""
    parsed = _parse_json(response.text)
    if parsed is _NOT_JSON:
        return None, f"invalid {response.status_code} body: not JSON"
    try:
        return schema.load(parsed), None
    except ValidationError as err:
        return None, f"invalid {response.status_code} body: {err.messages}"


_NOT_JSON = object()


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Upstream error"
