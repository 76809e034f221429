"""Parsing of upstream's Retry-After and X-RateLimit-* headers, in every form seen in practice."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from app.upstream.outcomes import RateInfo

# X-RateLimit-Reset below this is "seconds from now", not a unix timestamp (10^9 s is 2001).
RELATIVE_RESET_CEILING = 1e9


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date, RFC 9110 10.2.3)."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    seconds = _parse_number(text)
    if seconds is not None:
        return seconds if seconds >= 0 else None
    moment = _parse_http_date(text)
    if moment is None:
        return None
    # A date already past means "now", not "never".
    return max(0.0, moment - now)


def parse_rate_headers(headers: Mapping[str, str], now: float) -> RateInfo | None:
    """RateInfo from X-RateLimit-Limit/Remaining/Reset, or None when none of them is usable."""
    lowered = {name.lower(): value for name, value in headers.items()}
    limit = _parse_count(lowered.get("x-ratelimit-limit"))
    remaining = _parse_count(lowered.get("x-ratelimit-remaining"))
    reset_at = parse_reset(lowered.get("x-ratelimit-reset"), now)
    if limit is None and remaining is None and reset_at is None:
        return None
    return RateInfo(limit=limit, remaining=remaining, reset_at=reset_at)


def parse_reset(value: str | None, now: float) -> float | None:
    """Unix seconds of X-RateLimit-Reset: documented as a unix timestamp but typed date-time."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    number = _parse_number(text)
    if number is not None:
        if number < 0:
            return None
        return now + number if number < RELATIVE_RESET_CEILING else number
    return _parse_iso_datetime(text) or _parse_http_date(text)


def _parse_number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _parse_count(value: str | None) -> int | None:
    if value is None:
        return None
    number = _parse_number(value.strip())
    if number is None or number < 0 or number != int(number):
        return None
    return int(number)


def _parse_http_date(text: str) -> float | None:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return _as_utc(moment).timestamp()


def _parse_iso_datetime(text: str) -> float | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _as_utc(moment).timestamp()


def _as_utc(moment: datetime) -> datetime:
    # HTTP dates are always GMT; an ISO time with no offset is taken as UTC too.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
