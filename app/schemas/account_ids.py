"""How an account is named: its id, a slug, also `data.account` on triggers and `account` on
watches."""

from __future__ import annotations

from marshmallow import fields, validate

ACCOUNT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
ACCOUNT_ID_HINT = (
    "Expected a slug: 1 to 64 characters of a-z, 0-9, '_' and '-', starting with a letter or "
    "a digit."
)
NAMED_ACCOUNT = (
    "The account (POST /v1/accounts) whose token the relay uses upstream; default: the "
    "account `default` (ZAPIER_ACCESS_TOKEN); with none, 400. An unknown one answers 404."
)


def account_id_field(**kwargs) -> fields.Str:
    return fields.Str(validate=validate.Regexp(ACCOUNT_ID_PATTERN, error=ACCOUNT_ID_HINT), **kwargs)


def named_account_field() -> fields.Str:
    """The account a trigger or a watch names (optional)."""
    return account_id_field(metadata={"description": NAMED_ACCOUNT})
