"""Stored unix times as the API shows them: ISO 8601 text in UTC, with a trailing Z."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import fields


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


class Timestamp(fields.Str):
    """A stored unix time dumped as ISO text; published as the string it is on the wire."""

    def _serialize(self, value, attr, obj, **kwargs):
        return iso(value)
