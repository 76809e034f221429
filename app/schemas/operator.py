"""The operator's schemas: deliveries as a resource, target health, recovery, rotation."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.account_ids import account_id_field
from app.schemas.cursors import cursor_field
from app.schemas.relay import Delivery, Strict, Webhook
from app.schemas.timestamps import Timestamp

DELIVERY_STATES = ("pending", "paused", "held", "delivered", "succeeded", "failed", "gone")


class WebhookHealth(Schema):
    state = fields.Str(
        validate=validate.OneOf(("enabled", "paused", "disabled")),
        metadata={"description": "paused: the circuit breaker rests it; disabled: see reason."},
    )
    disabled_reason = fields.Str(allow_none=True)
    paused_until = Timestamp(allow_none=True)
    consecutive_failures = fields.Int()
    failing_since = Timestamp(allow_none=True)
    last_success_at = Timestamp(allow_none=True)
    last_success_status = fields.Int(allow_none=True)
    last_failure_at = Timestamp(allow_none=True)
    last_failure_status = fields.Int(allow_none=True)
    last_error = fields.Str(allow_none=True)
    secret_overlap_until = Timestamp(
        allow_none=True, metadata={"description": "Until then forwards carry two signatures."}
    )
    attempts_24h = fields.Int(metadata={"description": "Only on GET /v1/webhooks/{id}."})
    success_rate_24h = fields.Float(allow_none=True)


class DeliveryDetail(Delivery):
    """A delivery as a resource: its subject (a run, a Zap run event, or none for an
    operational event) and its state, with every attempt on GET /v1/deliveries/{id}."""

    run_id = fields.Str(allow_none=True)
    zap_event_id = fields.Str(allow_none=True)
    last_status = fields.Int(allow_none=True)
    last_error = fields.Str(allow_none=True)
    created_at = Timestamp()
    delivered_at = Timestamp(allow_none=True)


class DeliveryPage(Schema):
    data = fields.List(fields.Nested(DeliveryDetail), required=True)
    next_cursor = fields.Str(allow_none=True)


class DeliveryEnvelope(Schema):
    data = fields.Nested(DeliveryDetail, required=True)


class DeliveriesQuery(Strict):
    state = fields.Str(validate=validate.OneOf(DELIVERY_STATES))
    webhook_id = fields.Str(validate=validate.Length(min=1, max=36))
    event_type = fields.Str(validate=validate.Length(min=1, max=32))
    run_id = fields.Str(validate=validate.Length(min=1, max=36))
    account = account_id_field(
        metadata={"description": "Deliveries of this account's runs (not Zap run events)."}
    )
    since = fields.AwareDateTime(default_timezone=None)
    until = fields.AwareDateTime(default_timezone=None)
    cursor = cursor_field()
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))


class RecoverRequest(Strict):
    """The window [since, until). One that ends before it starts is empty and queues nothing
    (202, queued 0): its schema cannot say "after since", so a 400 would refuse a body the
    document allows."""

    since = fields.AwareDateTime(required=True, default_timezone=None)
    until = fields.AwareDateTime(default_timezone=None)


class Recovered(Schema):
    queued = fields.Int(metadata={"description": "Failed deliveries queued again."})
    more = fields.Bool(metadata={"description": "More were left: call again to queue them."})


class RecoveredEnvelope(Schema):
    data = fields.Nested(Recovered, required=True)


class RotatedWebhook(Webhook):
    secret = fields.Str(metadata={"description": "The new secret, shown in full this once."})


class RotatedEnvelope(Schema):
    data = fields.Nested(RotatedWebhook, required=True)
