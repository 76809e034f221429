"""The relay's own schemas: its trigger extension, run views, webhooks and query arguments."""

from __future__ import annotations

import json

from marshmallow import RAISE, Schema, ValidationError, fields, pre_dump, validate

from app.runs.states import RunKind
from app.schemas.account_ids import account_id_field, named_account_field
from app.schemas.action_runs import RunActionRequestData
from app.schemas.cursors import cursor_field
from app.schemas.json_types import StrictBool, storable, stored_text
from app.schemas.stored_actions import StoredActionsRunRequestInput
from app.schemas.timestamps import Timestamp

METADATA_MAX_BYTES = 4096
RUN_STATES = ("queued", "submitted", "waiting", "succeeded", "failed", "expired", "refused")
FORWARD_STATUSES = ("succeeded", "failed", "expired")


class Strict(Schema):
    class Meta:
        unknown = RAISE


def _small(value: dict) -> None:
    if len(json.dumps(value)) > METADATA_MAX_BYTES:
        raise ValidationError(f"metadata must serialize to at most {METADATA_MAX_BYTES} bytes")


def metadata_field() -> fields.Dict:
    """The relay's `metadata` extension: a small object echoed in every forward of the run."""
    return fields.Dict(
        keys=fields.Str(),
        validate=_small,
        metadata={"description": "Small object (<= 4 KiB) echoed in forwards."},
    )


def callback_url_field() -> fields.Url:
    """`data.callback_url`: the run's own forward target, kept in a column."""
    return fields.Url(
        require_tld=False,
        schemes={"http", "https"},
        validate=[validate.Length(max=2048), storable],
        metadata={"format": "uri"},
    )


class RelayStoredActionsRunRequestInput(StoredActionsRunRequestInput):
    """The upstream run request plus `metadata`, echoed in every forward of the run, and
    `account`, whose token runs it."""

    callback_url = callback_url_field()
    metadata = metadata_field()
    account = named_account_field()


class RelayStoredActionsRunRequest(Strict):
    data = fields.Nested(RelayStoredActionsRunRequestInput, required=True)


class RelayRunActionRequestData(RunActionRequestData):
    """The v2 run request plus the relay's `callback_url` (a forward target) and `metadata`."""

    # The store keeps both in 255-character columns.
    action = stored_text(required=True, validate=validate.Length(min=1, max=255))
    authentication = stored_text(required=True, allow_none=True, validate=validate.Length(max=255))
    callback_url = callback_url_field()
    metadata = metadata_field()
    account = named_account_field()


class RelayRunActionRequest(Strict):
    data = fields.Nested(RelayRunActionRequestData, required=True)


class TimelineEntry(Schema):
    at = Timestamp(required=True)
    event = fields.Str(required=True)
    detail = fields.Dict()


class Tenths(fields.Float):
    """A float shown to one decimal place."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else round(value, 1)


class DeliveryAttempt(Schema):
    at = Timestamp(required=True, attribute="attempted_at")
    status = fields.Int(allow_none=True)
    error = fields.Str(allow_none=True)
    latency_ms = Tenths()
    response_excerpt = fields.Str(allow_none=True)


class Delivery(Schema):
    id = fields.Str(required=True)
    webhook_id = fields.Str(allow_none=True)
    target_url = fields.Str(required=True)
    event_id = fields.Str(required=True)
    event_type = fields.Str(required=True)
    state = fields.Str(
        validate=validate.OneOf(("pending", "paused", "delivered", "failed", "gone")),
        metadata={"description": "paused: pending, but its target's circuit breaker is open."},
    )
    paused_reason = fields.Str(allow_none=True)
    attempts = fields.List(fields.Nested(DeliveryAttempt))
    next_attempt_at = Timestamp(allow_none=True)


class Run(Schema):
    """A stored run row; a run's detail adds callback_count, result, deliveries and timeline."""

    id = fields.Str(required=True)
    kind = fields.Str(validate=validate.OneOf([kind.value for kind in RunKind]))
    stored_action_id = fields.Str(allow_none=True)
    action = fields.Str(allow_none=True)
    state = fields.Str(validate=validate.OneOf(RUN_STATES))
    upstream_run_id = fields.Str(allow_none=True)
    source = fields.Str(allow_none=True, validate=validate.OneOf(("callback", "poll")))
    reason = fields.Str(allow_none=True)
    idempotency_id = fields.Str()
    metadata = fields.Dict()
    account = fields.Str(attribute="account_id", metadata={"description": "Whose token runs it."})
    created_at = Timestamp()
    submitted_at = Timestamp(allow_none=True)
    settled_at = Timestamp(allow_none=True)
    next_poll_at = Timestamp(allow_none=True)
    poll_count = fields.Int()
    throttle_count = fields.Int()
    callback_count = fields.Int()
    result = fields.Dict(allow_none=True)
    deliveries = fields.List(fields.Nested(Delivery))
    timeline = fields.List(fields.Nested(TimelineEntry))

    @pre_dump
    def _metadata(self, run: dict, **_) -> dict:
        return {**run, "metadata": json.loads(run["metadata_json"] or "{}")}


class RunPage(Schema):
    data = fields.List(fields.Nested(Run), required=True)
    next_cursor = fields.Str(allow_none=True)


class RunsQuery(Strict):
    status = fields.Str(validate=validate.OneOf(RUN_STATES))
    stored_action_id = stored_text(validate=validate.Length(max=64))
    account = account_id_field(metadata={"description": "Runs of this account."})
    created_after = fields.AwareDateTime(
        default_timezone=None,
        metadata={"description": "ISO 8601 with an offset, e.g. 2026-11-22T10:00:00Z."},
    )
    cursor = cursor_field()
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))


# Standard Webhooks' form: "whsec_" and the key in standard, padded base64: 16 to 120
# characters (12 to 90 bytes), within the 128-character column.
WHSEC_FORMAT = (
    r"^whsec_(?:[A-Za-z0-9+/]{4}){3,29}"
    r"(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$"
)
WHSEC_HINT = (
    'Expected "whsec_" and then the key in standard base64 (A-Z, a-z, 0-9, "+", "/", padded '
    'with "=" to a multiple of 4 characters), 16 to 120 characters long: 12 to 90 bytes. '
    "Leave secret out to have one generated."
)


def _secret() -> fields.Str:
    return fields.Str(validate=validate.Regexp(WHSEC_FORMAT, error=WHSEC_HINT))


def _url(**kwargs) -> fields.Url:
    return fields.Url(
        require_tld=False,
        schemes={"http", "https"},
        validate=storable,
        metadata={"format": "uri"},
        **kwargs,
    )


class WebhookCreate(Strict):
    url = _url(required=True)
    secret = _secret()
    stored_action_ids = fields.List(fields.Str(validate=validate.Length(max=64)), load_default=list)
    statuses = fields.List(fields.Str(validate=validate.OneOf(FORWARD_STATUSES)), load_default=list)
    enabled = StrictBool(load_default=True)


class WebhookUpdate(Strict):
    url = _url()
    secret = _secret()
    stored_action_ids = fields.List(fields.Str(validate=validate.Length(max=64)))
    statuses = fields.List(fields.Str(validate=validate.OneOf(FORWARD_STATUSES)))
    enabled = StrictBool()


class Webhook(Schema):
    id = fields.Str(required=True)
    url = fields.Str(required=True)
    secret = fields.Str(metadata={"description": "Shown in full only in the creation answer."})
    stored_action_ids = fields.List(fields.Str())
    statuses = fields.List(fields.Str())
    enabled = fields.Bool()
    origin = fields.Str(
        validate=validate.OneOf(("env", "api", "ops")),
        metadata={"description": "env: FORWARD_URLS; ops: OPS_WEBHOOK_URLS; api: made here."},
    )
    disabled_reason = fields.Str(allow_none=True)
    created_at = Timestamp()
    health = fields.Nested("WebhookHealth")


class WebhookList(Schema):
    data = fields.List(fields.Nested(Webhook), required=True)


class WebhookEnvelope(Schema):
    data = fields.Nested(Webhook, required=True)


class RunEnvelope(Schema):
    data = fields.Nested(Run, required=True)


class CallbackAck(Schema):
    data = fields.Dict(required=True, metadata={"description": "{run_id, verdict}"})
