"""--since/--until values: relative durations (30m, 2h, 3d, 1h30m) or ISO 8601 times."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DURATION = re.compile(r"^(?:\d+[smhdw])+$")
PART = re.compile(r"(\d+)([smhdw])")
HINT = "expected a duration (30m, 2h, 3d, 1h30m) or an ISO 8601 time (2026-11-22T10:00Z)"


def duration(text: str) -> timedelta | None:
    """'1h30m' as a timedelta; None for anything that is not a duration."""
    compact = text.strip().lower()
    if not DURATION.match(compact):
        return None
    return timedelta(seconds=sum(int(n) * UNIT_SECONDS[unit] for n, unit in PART.findall(compact)))


def point_in_time(text: str, now: datetime | None = None) -> datetime:
    """A duration counts back from now; an ISO 8601 time without an offset is UTC, as every
    time the relay shows is. ValueError with a hint for anything else."""
    now = now or datetime.now(UTC)
    ago = duration(text)
    if ago is not None:
        return now - ago
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r}: {HINT}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso_z(moment: datetime) -> str:
    """An aware time as the API takes it: ISO 8601 in UTC with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def time_arg(text: str) -> str:
    """An argparse type: the value as ISO 8601 UTC text, or a usage error."""
    try:
        return iso_z(point_in_time(text))
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
