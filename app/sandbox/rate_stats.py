"""The sandbox's rate statistics: every token's windows, and all tokens added up per bucket."""

from __future__ import annotations

from sqlalchemy import Connection, select

from app.sandbox.ratelimit import BUCKETS, EXEMPT
from app.sandbox.tables import windows


def window_stats(conn: Connection) -> tuple[dict[str, dict], dict[str, dict]]:
    """(per bucket over every token, per token fingerprint and bucket): every window's counts,
    the most admitted in one window, and the 429s, 503s and 401s answered."""
    overall = {bucket: _empty() for bucket in BUCKETS}
    per_token: dict[str, dict] = {}
    rows = conn.execute(
        select(windows).order_by(windows.c.token, windows.c.bucket, windows.c.window_start)
    )
    sums: dict[tuple[str, float], dict] = {}
    for row in rows:
        token = per_token.setdefault(row.token, {b: _empty() for b in BUCKETS})
        _add(token.setdefault(row.bucket, _empty()), row, row.limit)
        total = sums.setdefault((row.bucket, row.window_start), _zero_window(row.window_start))
        for name in ("admitted", "throttled", "unavailable", "unauthorized"):
            total[name] += getattr(row, name)
    for (bucket, _start), window in sorted(sums.items()):
        entry = overall.setdefault(bucket, _empty())
        entry["windows"].append(window)
        entry["max_per_window"] = max(entry["max_per_window"], window["admitted"])
        entry["answered_429"] += window["throttled"]
        entry["answered_503"] += window["unavailable"]
        entry["answered_401"] += window["unauthorized"]
    return overall, per_token


def _empty() -> dict:
    return {
        "windows": [],
        "max_per_window": 0,
        "answered_429": 0,
        "answered_503": 0,
        "answered_401": 0,
    }


def _zero_window(start: float) -> dict:
    return {"start": start, "admitted": 0, "throttled": 0, "unavailable": 0, "unauthorized": 0}


def _add(entry: dict, row, limit: int) -> None:
    entry["windows"].append(
        {
            "start": row.window_start,
            "limit": None if limit == EXEMPT else limit,
            "admitted": row.admitted,
            "throttled": row.throttled,
            "unavailable": row.unavailable,
            "unauthorized": row.unauthorized,
        }
    )
    entry["max_per_window"] = max(entry["max_per_window"], row.admitted)
    entry["answered_429"] += row.throttled
    entry["answered_503"] += row.unavailable
    entry["answered_401"] += row.unauthorized
