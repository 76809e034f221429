"""The relay's Zap Runs watching API: watches in and out, and its stored view of Zap runs."""

import json

from marshmallow import Schema, fields, pre_dump, validate

from app.schemas.account_ids import named_account_field
from app.schemas.json_types import JsonInt, StrictBool, UuidText, stored_text
from app.schemas.relay import Strict
from app.schemas.timestamps import Timestamp
from app.schemas.zap_runs_contract import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    SEARCH_MAX_LENGTH,
    ZAP_RUN_STATUSES,
    BaseMeta,
    Links,
    StatusList,
    UtcDateTime,
    ZapRun,
    ZapRunsQuery,
)

_STATUS = fields.Str(validate=validate.OneOf(ZAP_RUN_STATUSES))
_ZAP_ID = JsonInt(validate=validate.Range(min=1, max=2**63 - 1), allow_none=True)
_WEBHOOK_IDS = {
    "validate": validate.Length(max=50),
    "metadata": {"description": "Ids of existing webhooks; an unknown one answers 404."},
}


def _search():
    return stored_text(allow_none=True, validate=validate.Length(min=1, max=SEARCH_MAX_LENGTH))


class ZapWatchCreate(Strict):
    zap_id = _ZAP_ID
    statuses = fields.List(_STATUS, load_default=list, validate=validate.Length(max=11))
    search = _search()
    webhook_ids = fields.List(UuidText(), load_default=list, **_WEBHOOK_IDS)
    from_date = UtcDateTime(
        metadata={"description": "Backfill from here; default: runs from the watch's creation."}
    )
    enabled = StrictBool(load_default=True)
    account = named_account_field()


class ZapWatchUpdate(Strict):
    zap_id = _ZAP_ID
    statuses = fields.List(_STATUS, validate=validate.Length(max=11))
    search = _search()
    webhook_ids = fields.List(UuidText(), **_WEBHOOK_IDS)
    enabled = StrictBool()


class StoredZapRunsQuery(ZapRunsQuery):
    """GET /v1/zap-runs: the seed's query, but a limit outside 1-100 is refused, naming the
    parameter, as on /v1/runs (the contract sets no cap; the sandbox lowers a larger one)."""

    limit = fields.Int(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT))
    search = stored_text(validate=validate.Length(max=SEARCH_MAX_LENGTH))
    statuses = StatusList(
        metadata={
            "description": "Comma-separated status names.",
            "type": "array",
            "items": {"type": "string", "enum": list(ZAP_RUN_STATUSES)},
            "minItems": 1,
            # How the document sends it (see api/openapi/document.py): "error,success".
            "parameter": {"style": "form", "explode": False},
        }
    )


class ZapWatch(Schema):
    """A stored watch row: JSON-text columns as lists, unix times as ISO text."""

    id = fields.Str(required=True)
    account = fields.Str(
        attribute="account_id", metadata={"description": "Whose token polls Zap runs."}
    )
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
