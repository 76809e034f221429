"""The relay's Zap Runs watching API: watches in and out, and its stored view of Zap runs."""

import json

from marshmallow import Schema, fields, pre_dump, validate

from app.schemas.relay import Strict
from app.schemas.timestamps import Timestamp
from app.schemas.zap_runs_contract import (
    SEARCH_MAX_LENGTH,
    ZAP_RUN_STATUSES,
    BaseMeta,
    Links,
    UtcDateTime,
    ZapRun,
)

_STATUS = fields.Str(validate=validate.OneOf(ZAP_RUN_STATUSES))
_ZAP_ID = fields.Int(strict=True, validate=validate.Range(min=1, max=2**63 - 1), allow_none=True)


class ZapWatchCreate(Strict):
    zap_id = _ZAP_ID
    statuses = fields.List(_STATUS, load_default=list, validate=validate.Length(max=11))
    search = fields.Str(allow_none=True, validate=validate.Length(min=1, max=SEARCH_MAX_LENGTH))
    webhook_ids = fields.List(
        fields.Str(validate=validate.Length(max=36)),
        load_default=list,
        validate=validate.Length(max=50),
    )
    from_date = UtcDateTime(
        metadata={"description": "Backfill from here; default: runs from the watch's creation."}
    )
    enabled = fields.Bool(load_default=True)


class ZapWatchUpdate(Strict):
    zap_id = _ZAP_ID
    statuses = fields.List(_STATUS, validate=validate.Length(max=11))
    search = fields.Str(allow_none=True, validate=validate.Length(min=1, max=SEARCH_MAX_LENGTH))
    webhook_ids = fields.List(
        fields.Str(validate=validate.Length(max=36)), validate=validate.Length(max=50)
    )
    enabled = fields.Bool()


class ZapWatch(Schema):
    """A stored watch row: JSON-text columns as lists, unix times as ISO text."""

    id = fields.Str(required=True)
    zap_id = fields.Int(allow_none=True)
    statuses = fields.List(fields.Str())
    search = fields.Str(allow_none=True)
    webhook_ids = fields.List(fields.Str())
    enabled = fields.Bool()
    from_date = Timestamp(metadata={"description": "High-water mark: the next scan's from_date"})
    scanning = fields.Bool(metadata={"description": "A scan is part-way through its pages"})
    scan_offset = fields.Int(allow_none=True)
    next_poll_at = Timestamp(allow_none=True)
    last_scan_at = Timestamp(allow_none=True)
    last_error = fields.Str(allow_none=True)
    runs_seen = fields.Int()
    created_at = Timestamp()

    @pre_dump
    def _from_row(self, row: dict, **_) -> dict:
        return {
            **row,
            "statuses": json.loads(row["statuses_json"] or "[]"),
            "webhook_ids": json.loads(row["webhook_ids_json"] or "[]"),
            "scanning": row["scan_offset"] is not None,
            # A disabled watch is not polled, whatever the column still holds.
            "next_poll_at": row["next_poll_at"] if row["enabled"] else None,
        }


class ZapWatchList(Schema):
    data = fields.List(fields.Nested(ZapWatch), required=True)


class ZapWatchEnvelope(Schema):
    data = fields.Nested(ZapWatch, required=True)


class StoredZapRunsPage(Schema):
    """GET /v1/zap-runs: the seed's page shape (one object, not the upstream's array)."""

    links = fields.Nested(Links, required=True)
    meta = fields.Nested(BaseMeta, required=True)
    data = fields.List(fields.Nested(ZapRun), required=True)
