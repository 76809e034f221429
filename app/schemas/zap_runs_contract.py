"""The Partner API v2 zap-runs contract, field for field (partner-v2-zap-runs.yaml); its query."""

from __future__ import annotations

import datetime as dt

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from app.schemas.action_runs import ErrorResponse
from app.schemas.stored_actions import UpstreamBody

__all__ = [
    "COMPONENTS",
    "DEFAULT_LIMIT",
    "FINISHED_STATUSES",
    "MAX_LIMIT",
    "SEARCH_MAX_LENGTH",
    "ZAP_RUN_STATUSES",
    "BaseMeta",
    "ErrorResponse",
    "Links",
    "StatusList",
    "UtcDateTime",
    "ZapRun",
    "ZapRunStep",
    "ZapRunsQuery",
    "ZapRunsResponse",
]

# The `statuses` parameter's enum, in the contract's order.
ZAP_RUN_STATUSES = (
    "delayed",
    "scheduled",
    "pending",
    "error",
    "error_handled",
    "halted",
    "throttled",
    "held",
    "filtered",
    "skipped",
    "success",
)
# A run in one of these has ended (it has an end_time); the others may still change.
FINISHED_STATUSES = ("error", "error_handled", "halted", "filtered", "skipped", "success")
DEFAULT_LIMIT = 10
# Not in the contract: the sandbox answers a larger limit as this one; the relay's own
# GET /v1/zap-runs refuses it (schemas/zap_watches.py).
MAX_LIMIT = 100
SEARCH_MAX_LENGTH = 150
_INT64 = validate.Range(min=-(2**63), max=2**63 - 1, error="Must be a 64-bit integer.")
# The contract's data_in/data_out: any value, spelled as its generator spells it.
_ANY_OR_NULL = {"oneOf": [{}, {"type": "null"}]}


class UtcDateTime(fields.AwareDateTime):
    """Loads any ISO 8601 date-time (no offset means UTC); dumps the contract's own spelling,
    UTC with microseconds and a Z: '2024-10-16T06:29:10.360000Z'."""

    def __init__(self, **kwargs) -> None:
        super().__init__(default_timezone=dt.UTC, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ZapRunStep(UpstreamBody):
    status = fields.Str(required=True, allow_none=True)
    start_time = UtcDateTime(allow_none=True)


class ZapRun(UpstreamBody):
    # `status` is a plain string in the component; ZAP_RUN_STATUSES is the filter's enum.
    id = fields.UUID(required=True)
    zap_id = fields.Int(required=True, strict=True)
    start_time = UtcDateTime(allow_none=True)
    end_time = UtcDateTime(allow_none=True)
    status = fields.Str(required=True)
    zap_title = fields.Str(required=True, allow_none=True)
    steps = fields.List(fields.Nested(ZapRunStep), required=True, allow_none=True)
    data_in = fields.Raw(allow_none=True, metadata=_ANY_OR_NULL)
    data_out = fields.Raw(allow_none=True, metadata=_ANY_OR_NULL)


class Links(UpstreamBody):
    next = fields.Str(allow_none=True)
    prev = fields.Str(allow_none=True)


class BaseMeta(UpstreamBody):
    count = fields.Int(required=True, strict=True, validate=validate.Range(min=0))
    limit = fields.Int(required=True, strict=True, allow_none=True, validate=validate.Range(min=1))
    offset = fields.Int(strict=True, validate=validate.Range(min=0), metadata={"default": 0})


class ZapRunsResponse(UpstreamBody):
    """One page. The 200 answer is a JSON array of these: use ZapRunsResponse(many=True)."""

    links = fields.Nested(Links, required=True)
    meta = fields.Nested(BaseMeta, required=True)
    data = fields.List(fields.Nested(ZapRun))


class StatusList(fields.Field):
    """`statuses` (style form, explode false): 'error,success' in, a list of names out."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else ",".join(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            value = ",".join(value)
        if not isinstance(value, str):
            raise ValidationError("Expected status names separated by commas.")
        names = [name.strip() for name in value.split(",")]
        unknown = [name for name in names if name not in ZAP_RUN_STATUSES]
        if unknown:
            raise ValidationError(
                f"Unknown status {', '.join(map(repr, unknown))}; "
                f"expected one of: {', '.join(ZAP_RUN_STATUSES)}."
            )
        return list(dict.fromkeys(names))


class ZapRunsQuery(Schema):
    """The query of GET /v2/zap-runs. Unknown parameters are ignored, as upstream does. A limit
    above MAX_LIMIT (100) is lowered to it; meta.limit then says 100."""

    class Meta:
        unknown = EXCLUDE

    from_date = UtcDateTime()
    to_date = UtcDateTime()
    limit = fields.Int(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1))
    offset = fields.Int(
        load_default=0,
        validate=validate.Range(min=0, max=2**63 - 1, error="Must be from {min} to {max}."),
    )
    search = fields.Str(validate=validate.Length(max=SEARCH_MAX_LENGTH))
    statuses = StatusList()
    zap_id = fields.Int(validate=_INT64)

    @post_load
    def _cap_limit(self, data: dict, **kwargs) -> dict:
        data["limit"] = min(data["limit"], MAX_LIMIT)
        return data


COMPONENTS = {
    "ZapRunStep": ZapRunStep,
    "ZapRun": ZapRun,
    "Links": Links,
    "BaseMeta": BaseMeta,
    "ZapRunsResponse": ZapRunsResponse,
}
