"""Zap runs as the sandbox makes and shows them: rows, knob-made runs' fates, ZapRun, links."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Row

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
SANDBOX_ZAPS = (
    (104445735, "Sandbox: new form entry to spreadsheet"),
    (104445736, "Sandbox: new lead to CRM"),
    (104445737, "Sandbox: daily digest email"),
)
# The contract's own example spells "no data" as ''. Never null: data_in/data_out are
# `oneOf: [{}, {type: null}]`, which a null matches twice, so a validator refuses it.
NO_DATA = ""


def to_us(moment: dt.datetime) -> int:
    """Whole microseconds since the epoch: exact, unlike a float of seconds."""
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


def from_us(micros: int | None) -> dt.datetime | None:
    return None if micros is None else EPOCH + dt.timedelta(microseconds=micros)


def seconds_to_us(seconds: float) -> int:
    return round(seconds * 1_000_000)


def to_json(value: Any) -> str:
    # Unescaped, so that `search` finds non-ASCII text as written.
    return json.dumps(value, ensure_ascii=False)


def search_text(zap_title: str | None, data_in_json: str, data_out_json: str) -> str:
    """What `search` matches in (zap_title, data_in and data_out), casefolded like the term."""
    return "\n".join((zap_title or "", data_in_json, data_out_json)).casefold()


def run_row(
    run_id: str,
    *,
    zap_id: int,
    zap_title: str | None,
    status: str,
    start_us: int,
    end_us: int | None,
    steps: list[dict] | None,
    data_in: Any,
    data_out: Any,
) -> dict:
    """A sandbox_zap_runs row; `steps` are [{status, start_us}], None for the default step."""
    data_in_json, data_out_json = to_json(data_in), to_json(data_out)
    return {
        "id": run_id,
        "zap_id": zap_id,
        "zap_title": zap_title,
        "status": status,
        "start_us": start_us,
        "end_us": end_us,
        "steps_json": None if steps is None else json.dumps(steps),
        "data_in_json": data_in_json,
        "data_out_json": data_out_json,
        "search_text": search_text(zap_title, data_in_json, data_out_json),
        "finish_us": None,
        "final_status": None,
    }


def planned_run(run_id: str, start_us: int, knobs: Mapping[str, Any]) -> dict:
    """A knob-made run: pending from its start, finished zap_run_seconds later. Its zap and
    its fate come from a generator seeded by its id, as outcome.plan_run does for runs."""
    rng = random.Random(run_id)
    zap_id, title = rng.choice(SANDBOX_ZAPS)
    failed = rng.random() < knobs["zap_run_error_rate"]
    entry = {"sandbox": True, "entry": rng.randrange(1, 10**6)}
    row = run_row(
        run_id,
        zap_id=zap_id,
        zap_title=title,
        status="pending",
        start_us=start_us,
        end_us=None,
        steps=None,
        data_in=entry,
        data_out=NO_DATA,
    )
    row["finish_us"] = start_us + seconds_to_us(knobs["zap_run_seconds"])
    row["final_status"] = "error" if failed else "success"
    return row


def finished_values(due: Row) -> dict:
    """What a knob-made run's row becomes when its time is up."""
    if due.final_status == "success":
        out = to_json({"sandbox": True, "ok": True})
    else:
        out = to_json({"sandbox": True, "error": "The sandbox failed it (zap_run_error_rate)."})
    return {
        "status": due.final_status,
        "end_us": due.finish_us,
        "data_out_json": out,
        "search_text": search_text(due.zap_title, due.data_in_json, out),
    }


def as_zap_run(row: Mapping[str, Any]) -> dict:
    """A row (a run_row() dict or a selected row's _mapping) as the contract's ZapRun, ready
    for ZapRun().dump()."""
    start = from_us(row["start_us"])
    if row["steps_json"] is None:
        steps = [{"status": row["status"], "start_time": start}]
    else:
        steps = [
            {"status": step["status"], "start_time": from_us(step["start_us"])}
            for step in json.loads(row["steps_json"])
        ]
    return {
        "id": row["id"],
        "zap_id": row["zap_id"],
        "start_time": start,
        "end_time": from_us(row["end_us"]),
        "status": row["status"],
        "zap_title": row["zap_title"],
        "steps": steps,
        "data_in": json.loads(row["data_in_json"]),
        "data_out": json.loads(row["data_out_json"]),
    }


def page_links(url: str, filters: Mapping[str, str], count: int, limit: int, offset: int) -> dict:
    """Absolute URLs of the neighbouring pages with the same filters, as in the contract's
    example ('...?offset=10&limit=10'); null past either end."""

    def at(where: int) -> str:
        return f"{url}?{urlencode({'offset': where, 'limit': limit, **filters})}"

    return {
        "next": at(offset + limit) if offset + limit < count else None,
        "prev": at(max(0, offset - limit)) if offset > 0 else None,
    }
