"""Retry-After and X-RateLimit-* parsing: every documented form, and garbage never crashes."""

from email.utils import formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.upstream.outcomes import RateInfo
from app.upstream.rate_headers import parse_rate_headers, parse_retry_after

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (formatdate(NOW + 90, usegmt=True), 90.0),  # IMF-fixdate
        ("Friday, 15-Jan-27 08:01:00 GMT", 60.0),  # obsolete RFC 850
        ("Fri Jan 15 08:02:00 2027", 120.0),  # obsolete asctime
        (formatdate(NOW - 3600, usegmt=True), 0.0),  # a date in the past means "now"
        ("-5", None),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_retry_after_forms(value, expected):
    assert parse_retry_after(value, NOW) == expected


@given(st.text(max_size=40))
def test_retry_after_never_raises_and_never_negative(value):
    seconds = parse_retry_after(value, NOW)
    assert seconds is None or seconds >= 0


def test_rate_headers_with_unix_reset():
    headers = {
        "X-RateLimit-Limit": "600",
        "X-RateLimit-Remaining": "17",
        "X-RateLimit-Reset": str(int(NOW + 200)),
    }
    assert parse_rate_headers(headers, NOW) == RateInfo(600, 17, NOW + 200)


@pytest.mark.parametrize(
    ("reset", "expected"),
    [
        ("2027-01-15T08:05:00Z", NOW + 300),
        ("2027-01-15T09:05:00+01:00", NOW + 300),
        ("2027-01-15T08:05:00", NOW + 300),  # no offset: UTC
        ("45", NOW + 45),  # a small number is "seconds from now"
        ("1800000123.5", 1_800_000_123.5),
        ("Fri, 15 Jan 2027 08:05:00 GMT", NOW + 300),
        ("-3", None),
        ("tomorrow", None),
    ],
)
def test_rate_reset_forms(reset, expected):
    info = parse_rate_headers({"x-ratelimit-reset": reset}, NOW)
    assert (info.reset_at if info else None) == expected


def test_rate_headers_absent_or_garbage_give_none():
    assert parse_rate_headers({"Content-Type": "application/json"}, NOW) is None
    assert parse_rate_headers({"X-RateLimit-Limit": "lots"}, NOW) is None


def test_rate_headers_keep_what_is_usable():
    info = parse_rate_headers({"x-ratelimit-remaining": "3", "x-ratelimit-limit": "-1"}, NOW)
    assert info == RateInfo(limit=None, remaining=3, reset_at=None)
