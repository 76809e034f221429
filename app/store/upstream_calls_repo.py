"""SQL for the log of upstream calls: one row per call, read back for a run's timeline."""

from __future__ import annotations

from sqlalchemy import insert, select

from app.store.tables import upstream_calls

_INSERT_CALL = insert(upstream_calls)


def record_call(conn, values: dict) -> None:
    conn.execute(_INSERT_CALL, values)


def calls_of(conn, run_id: str) -> list[dict]:
    stmt = select(upstream_calls).where(upstream_calls.c.run_id == run_id)
    return [dict(row) for row in conn.execute(stmt.order_by(upstream_calls.c.id)).mappings()]
