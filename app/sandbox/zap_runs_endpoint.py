"""Zap runs in the sandbox: the GET /v2/zap-runs page, admin-made runs, and knob-made runs."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from app.sandbox import zap_store
from app.sandbox.zap_plan import (
    as_zap_run,
    finished_values,
    page_links,
    planned_run,
    seconds_to_us,
    to_us,
)
from app.sandbox.zap_specs import MAX_CREATED, changed_values, rows_from_specs
from app.store.engine import read, write

# Without from_date, upstream answers "Zap runs from the last 30 days".
DEFAULT_SINCE_SECONDS = 30 * 86400
# Runs the zap_runs_per_minute knob makes at most in one go, after a long quiet spell.
MAX_BACKFILL = 1000


class ZapRunNotFound(LookupError):
    """No zap run with this id."""


class TooManyRuns(ValueError):
    """An admin request asked for more than MAX_CREATED runs at once."""


class ZapRuns:
    """Held by a Sandbox; everything lives in its database, and the knob-made runs are made
    (and finished) lazily by each list request, so no thread is needed."""

    def __init__(self, sandbox) -> None:
        self._sandbox = sandbox

    def page(
        self, query: Mapping[str, Any], knobs: Mapping[str, Any], url: str, filters: dict
    ) -> dict:
        """One ZapRunsResponse for a loaded ZapRunsQuery; `url` and `filters` (the request's
        filter parameters as given) make the links."""
        now_us = self._now_us()
        wanted = zap_store.ZapRunFilter(
            since_us=to_us(query["from_date"])
            if "from_date" in query
            else now_us - seconds_to_us(DEFAULT_SINCE_SECONDS),
            before_us=to_us(query["to_date"]) if "to_date" in query else None,
            zap_id=query.get("zap_id"),
            statuses=tuple(query.get("statuses") or ()),
            search=query.get("search") or None,
        )
        limit, offset = query["limit"], query["offset"]
        with write(self._sandbox.engine) as conn:
            advance(conn, knobs, now_us)
            count, rows = zap_store.page(conn, wanted, limit, offset)
            zap_store.bump_counter(conn, zap_store.LIST_CALLS)
        return {
            "links": page_links(url, filters, count, limit, offset),
            "meta": {"count": count, "limit": limit, "offset": offset},
            "data": [as_zap_run(row._mapping) for row in rows],
        }

    def create(self, specs: list[dict]) -> list[dict]:
        """Store the runs ZapRunSpec `specs` describe; the created runs as ZapRun dicts."""
        if sum(spec["count"] for spec in specs) > MAX_CREATED:
            raise TooManyRuns(f"At most {MAX_CREATED} runs at once.")
        rows = rows_from_specs(specs, self._now_us())
        with write(self._sandbox.engine) as conn:
            zap_store.insert_runs(conn, rows)
        return [as_zap_run(row) for row in rows]

    def change(self, run_id: str, change: Mapping[str, Any]) -> dict:
        """Apply a loaded ZapRunChange; the run afterwards as a ZapRun dict."""
        with write(self._sandbox.engine) as conn:
            row = zap_store.find(conn, run_id)
            if row is None:
                raise ZapRunNotFound(run_id)
            zap_store.change(conn, run_id, changed_values(change, row, self._now_us()))
            return as_zap_run(zap_store.find(conn, run_id)._mapping)

    def stats(self) -> dict:
        with read(self._sandbox.engine) as conn:
            by_status = zap_store.count_by_status(conn)
            calls = zap_store.read_counter(conn, zap_store.LIST_CALLS)
        return {"stored": sum(by_status.values()), "by_status": by_status, "list_calls": calls or 0}

    def _now_us(self) -> int:
        return seconds_to_us(self._sandbox.clock())


def restart_generation(conn: Connection, now: float) -> None:
    """Count knob-made runs from `now`: after a change of zap_runs_per_minute, no runs are
    made for the time before it."""
    zap_store.set_counter(conn, zap_store.GENERATED_UNTIL, seconds_to_us(now))


def advance(conn: Connection, knobs: Mapping[str, Any], now_us: int) -> None:
    """Make the runs zap_runs_per_minute has started since the last call, and finish the runs
    whose time is up; inside the caller's write transaction."""
    rate = knobs["zap_runs_per_minute"]
    if rate > 0:
        _start_due_runs(conn, knobs, rate, now_us)
    for due in zap_store.due_to_finish(conn, now_us):
        zap_store.finish(conn, due.id, due.finish_us, finished_values(due))


def _start_due_runs(conn: Connection, knobs: Mapping[str, Any], rate: float, now_us: int) -> None:
    mark = zap_store.read_counter(conn, zap_store.GENERATED_UNTIL)
    if mark is None:
        # First look since a start or reset: the first run comes one interval from now.
        zap_store.move_counter(conn, zap_store.GENERATED_UNTIL, None, now_us)
        return
    interval_us = 60_000_000 / rate
    due = int((now_us - mark) // interval_us)
    if due <= 0:
        return
    if not zap_store.move_counter(
        conn, zap_store.GENERATED_UNTIL, mark, mark + round(due * interval_us)
    ):
        return  # another process made these runs
    starts = [mark + round(k * interval_us) for k in range(max(1, due - MAX_BACKFILL + 1), due + 1)]
    zap_store.insert_runs(conn, [planned_run(str(uuid.uuid4()), s, knobs) for s in starts])
