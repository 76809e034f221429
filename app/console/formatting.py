"""Template filters: times in UTC and relative to now, durations, shares, JSON for reading."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit


def utc_text(ts: float | None) -> str:
    """2026-01-31 09:30:05Z; an em dash for no time."""
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def iso_text(ts: float | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def input_text(ts: float | None) -> str:
    """The value an <input type="datetime-local"> shows (UTC, to the minute)."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M")


def duration(seconds: float | None) -> str:
    """1.2 s, 340 ms, 5 min, 3 h, 2 d."""
    if seconds is None:
        return "—"
    seconds = max(0.0, float(seconds))
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def ago(ts: float | None, now: float | None = None) -> str:
    if ts is None:
        return "never"
    now = time.time() if now is None else now
    delta = now - ts
    return f"in {duration(-delta)}" if delta < 0 else f"{duration(delta)} ago"


def share(fraction: float | None) -> str:
    return "—" if fraction is None else f"{fraction * 100:.1f} %"


def pretty_json(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def json_list(text: str | None) -> list:
    """A *_json column holding a list (a watch's statuses, its targets)."""
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def shown_url(url: str | None) -> str:
    """A target URL without what may be a credential in it: a password, or the query (as in
    https://hooks.example/in?token=...). The path is kept: it is what tells targets apart."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username:
        host = (
            f"{parts.username}:[redacted]@{host}" if parts.password else f"{parts.username}@{host}"
        )
    query = "[redacted]" if parts.query else ""
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


FILTERS = {
    "utc": utc_text,
    "iso": iso_text,
    "input_time": input_text,
    "duration": duration,
    "ago": ago,
    "share": share,
    "pretty_json": pretty_json,
    "json_list": json_list,
    "url": shown_url,
}
