"""Zapier accounts in and out: the token is write-only, shown as its fingerprint."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.account_ids import account_id_field
from app.schemas.json_types import JsonInt
from app.schemas.relay import Strict
from app.schemas.timestamps import Timestamp

TOKEN_HINT = "Expected the token as sent upstream: 8 to 8192 visible ASCII characters."  # noqa: S105
# Budget overrides count calls per ZAPIER_RATE_WINDOW_SECONDS window, as the defaults do.
MAX_OVERRIDE = 100_000


def _token(description: str, **kwargs) -> fields.Str:
    # Visible ASCII only: it goes upstream in an Authorization header. No message echoes it.
    return fields.Str(
        load_only=True,
        validate=validate.Regexp(r"^[\x21-\x7e]{8,8192}$", error=TOKEN_HINT),
        metadata={"description": f"{description} Write-only: never shown, nor logged."},
        **kwargs,
    )


class BudgetOverrides(Strict):
    """Calls per window for one bucket, instead of the token's claims or the defaults."""

    get = JsonInt(validate=validate.Range(min=1, max=MAX_OVERRIDE))
    run = JsonInt(validate=validate.Range(min=1, max=MAX_OVERRIDE))


def _overrides(**kwargs) -> fields.Nested:
    return fields.Nested(
        BudgetOverrides,
        metadata={"description": "Per bucket, calls per ZAPIER_RATE_WINDOW_SECONDS."},
        **kwargs,
    )


class AccountCreate(Strict):
    id = account_id_field(required=True)
    token = _token("The token the relay sends upstream for this account.", required=True)
    budget_overrides = _overrides()


class AccountUpdate(Strict):
    token = _token("A new token; an unauthorized account is active again.")
    budget_overrides = _overrides(allow_none=True)


class Account(Schema):
    id = fields.Str(required=True)
    origin = fields.Str(
        validate=validate.OneOf(("api", "env", "sandbox")),
        metadata={
            "description": "api: made here; env: `default` is ZAPIER_ACCESS_TOKEN; sandbox: "
            "`default` is the sandbox's own (any token)."
        },
    )
    token_fingerprint = fields.Str(
        allow_none=True, metadata={"description": "12 hex digits of the token's SHA-256."}
    )
    budget_overrides = fields.Dict(keys=fields.Str(), values=fields.Int())
    state = fields.Str(
        validate=validate.OneOf(("active", "unauthorized")),
        metadata={"description": "unauthorized: upstream refused the token; its work is held."},
    )
    unauthorized_at = Timestamp(allow_none=True)
    unauthorized_detail = fields.Str(
        allow_none=True, metadata={"description": "Upstream's answer when it refused the token."}
    )
    last_used_at = Timestamp(allow_none=True)
    created_at = Timestamp(allow_none=True)
    updated_at = Timestamp(allow_none=True)


class AccountList(Schema):
    data = fields.List(fields.Nested(Account), required=True)


class AccountEnvelope(Schema):
    data = fields.Nested(Account, required=True)
