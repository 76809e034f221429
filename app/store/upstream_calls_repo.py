"""SQL for the log of upstream calls: one row per call, read back for a run's timeline."""

from __future__ import annotations

from sqlalchemy import func, insert, select, update

from app.store.tables import upstream_calls

_INSERT_CALL = insert(upstream_calls)


def record_call(conn, values: dict) -> None:
    conn.execute(_INSERT_CALL, values)


def mark_last_call(
    conn, run_id: str, operations: tuple[str, ...], outcome: str, since: float | None = None
) -> bool:
    """Set the outcome of the run's latest call of `operations` made at `since` or later (a
    poll whose answer was refused, say); False if there is none (its bookkeeping failed)."""
    latest = select(func.max(upstream_calls.c.id)).where(
        upstream_calls.c.run_id == run_id, upstream_calls.c.operation.in_(operations)
    )
    if since is not None:
        latest = latest.where(upstream_calls.c.at >= since)
    stmt = (
        update(upstream_calls)
        .where(upstream_calls.c.id == latest.scalar_subquery())
        .values(outcome=outcome)
    )
    return conn.execute(stmt).rowcount == 1


def calls_of(conn, run_id: str) -> list[dict]:
    stmt = select(upstream_calls).where(upstream_calls.c.run_id == run_id)
    return [dict(row) for row in conn.execute(stmt.order_by(upstream_calls.c.id)).mappings()]
