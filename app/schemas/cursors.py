"""Paging cursors: the (created_at, id) of a page's last row, as "<created_at>_<id>".

Any text of that form is a position in the list (rows older than it), so the pattern in the
OpenAPI document says exactly which cursors are taken: a fuzzer's cursor is a real one.
"""

from __future__ import annotations

from marshmallow import fields, validate

CURSOR_PATTERN = (
    r"^[0-9]{1,16}(\.[0-9]{1,20})?_"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


def cursor_field() -> fields.Str:
    """The `cursor` query parameter: next_cursor of the previous page."""
    return fields.Str(
        validate=validate.Regexp(CURSOR_PATTERN, error="Not a cursor: send next_cursor as given."),
        metadata={"description": "next_cursor of the previous page."},
    )


def encode_cursor(row: dict) -> str:
    # repr: the float comes back exactly, so the row at the boundary is neither lost nor repeated.
    return f"{row['created_at']!r}_{row['id']}"


def decode_cursor(cursor: str) -> tuple[float, str] | None:
    created, sep, row_id = cursor.partition("_")
    try:
        return (float(created), row_id) if sep and row_id else None
    except ValueError:
        return None
