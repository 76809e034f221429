"""Bodies of the sandbox's zap-runs admin endpoints: runs to create, and a run's new status."""

from __future__ import annotations

import json
import uuid

from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import Row

from app.sandbox.zap_plan import NO_DATA, SANDBOX_ZAPS, run_row, search_text, to_json, to_us
from app.schemas.zap_runs_contract import FINISHED_STATUSES, ZAP_RUN_STATUSES, UtcDateTime

MAX_CREATED = 1000  # runs per POST /_admin/zap-runs, all specs together
_INT64 = validate.Range(min=-(2**63), max=2**63 - 1)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class StepSpec(Strict):
    status = fields.Str(required=True, allow_none=True)
    start_time = UtcDateTime(allow_none=True, load_default=None)


class ZapRunSpec(Strict):
    """Runs to create: `count` alike runs (each its own id). Every field is optional; data_in
    and data_out take any JSON but null (see zap_plan.NO_DATA)."""

    count = fields.Int(strict=True, load_default=1, validate=validate.Range(1, MAX_CREATED))
    zap_id = fields.Int(strict=True, load_default=SANDBOX_ZAPS[0][0], validate=_INT64)
    zap_title = fields.Str(allow_none=True, load_default=SANDBOX_ZAPS[0][1])
    status = fields.Str(load_default="success", validate=validate.OneOf(ZAP_RUN_STATUSES))
    start_time = UtcDateTime()  # default: now
    end_time = UtcDateTime(allow_none=True)  # default: start_time if finished, else null
    steps = fields.List(fields.Nested(StepSpec), allow_none=True, load_default=None)
    data_in = fields.Raw(load_default=NO_DATA)
    data_out = fields.Raw(load_default=NO_DATA)


class ZapRunChange(Strict):
    """A run's new status; end_time defaults to now for a finished status, else null."""

    status = fields.Str(required=True, validate=validate.OneOf(ZAP_RUN_STATUSES))
    end_time = UtcDateTime(allow_none=True)
    zap_title = fields.Str(allow_none=True)
    steps = fields.List(fields.Nested(StepSpec), allow_none=True)
    data_out = fields.Raw()


def rows_from_specs(specs: list[dict], now_us: int) -> list[dict]:
    rows = []
    for spec in specs:
        start_us = to_us(spec["start_time"]) if "start_time" in spec else now_us
        if "end_time" in spec:
            end_us = _micros(spec["end_time"])
        else:
            end_us = start_us if spec["status"] in FINISHED_STATUSES else None
        rows.extend(
            run_row(
                str(uuid.uuid4()),
                zap_id=spec["zap_id"],
                zap_title=spec["zap_title"],
                status=spec["status"],
                start_us=start_us,
                end_us=end_us,
                steps=_steps(spec["steps"]),
                data_in=spec["data_in"],
                data_out=spec["data_out"],
            )
            for _ in range(spec["count"])
        )
    return rows


def changed_values(change: dict, row: Row, now_us: int) -> dict:
    values = {"status": change["status"]}
    if "end_time" in change:
        values["end_us"] = _micros(change["end_time"])
    elif change["status"] in FINISHED_STATUSES:
        values["end_us"] = row.end_us if row.end_us is not None else max(now_us, row.start_us)
    else:
        values["end_us"] = None
    if "zap_title" in change:
        values["zap_title"] = change["zap_title"]
    if "steps" in change:
        steps = _steps(change["steps"])
        values["steps_json"] = None if steps is None else json.dumps(steps)
    if "data_out" in change:
        values["data_out_json"] = to_json(change["data_out"])
    values["search_text"] = search_text(
        values.get("zap_title", row.zap_title),
        row.data_in_json,
        values.get("data_out_json", row.data_out_json),
    )
    return values


def _micros(moment) -> int | None:
    return None if moment is None else to_us(moment)


def _steps(steps: list[dict] | None) -> list[dict] | None:
    if steps is None:
        return None
    return [{"status": s["status"], "start_us": _micros(s["start_time"])} for s in steps]
