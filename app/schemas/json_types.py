"""Fields that load exactly what JSON Schema's types allow: booleans, integers, storable text."""

from __future__ import annotations

from marshmallow import ValidationError, fields

# What the OpenAPI document says of text the relay keeps in its own columns: no NUL. A lone
# surrogate is not a Unicode string at all, so JSON Schema has nothing to say about it.
NO_NUL_PATTERN = r"^[^\u0000]*$"
UNSTORABLE = "Must not contain U+0000 or an unpaired UTF-16 surrogate."


def is_storable(text: str) -> bool:
    """Text that both SQLite (UTF-8) and PostgreSQL (no NUL) can store and compare."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(text: str) -> None:
    """A validator for strings stored in a column (not inside a JSON text, where escapes keep
    them safe)."""
    if not is_storable(text):
        raise ValidationError(UNSTORABLE)


def stored_text(*, validate=(), metadata: dict | None = None, **kwargs) -> fields.Str:
    """A string field bound for a column: refused with a clear message, declared by pattern."""
    validators = [validate] if callable(validate) else list(validate)
    metadata = {"pattern": NO_NUL_PATTERN, **(metadata or {})}
    return fields.Str(validate=[*validators, storable], metadata=metadata, **kwargs)


class StrictBool(fields.Boolean):
    """`true` or `false` only: marshmallow's Boolean also takes 0, 1, "yes", "on"..."""

    default_error_messages = {"invalid": "Not a boolean: send true or false."}

    def _deserialize(self, value, attr, data, **kwargs) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class JsonInt(fields.Integer):
    """A JSON Schema integer: 344 and 344.0 alike, never true, "344" or 344.5."""

    default_error_messages = {"invalid": "Not a valid integer."}

    def __init__(self, **kwargs) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


class UuidText(fields.UUID):
    """A UUID (format: uuid), loaded as its canonical lowercase text, the form ids are kept in."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        return str(super()._deserialize(value, attr, data, **kwargs))
