"""Atomic claims: one UPDATE picks a due row whose lease is free and leases it to one owner."""

from __future__ import annotations

from sqlalchemy import Engine, Select, Table, or_, select, update

from app.store.engine import write


def claim_one(
    engine: Engine, table: Table, due, order_by, owner: str, now: float, lease_seconds: float
) -> dict | None:
    """Lease the first due row to `owner`; None when nothing is due.

    On PostgreSQL the picking SELECT is FOR UPDATE SKIP LOCKED, so concurrent claimers take
    different rows; on SQLite the write transaction (BEGIN IMMEDIATE) serializes them.
    """
    free = or_(table.c.lease_until.is_(None), table.c.lease_until < now)
    pick = (
        select(table.c.id)
        .where(due, free)
        .order_by(order_by)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        update(table)
        .where(table.c.id == pick)
        .values(lease_until=now + lease_seconds, lease_owner=owner)
        .returning(*table.c)
    )
    with write(engine) as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def claim_first(
    engine: Engine,
    table: Table,
    candidates: Select,
    due,
    owner: str,
    now: float,
    lease_seconds: float,
) -> dict | None:
    """Lease the first row of `candidates` (a SELECT of ids, best first) still due and free.

    For orders FOR UPDATE cannot take (a window function): the ids are read first, then each
    is leased by an UPDATE that re-checks `due` and the lease and skips a row another claimer
    has locked (SKIP LOCKED on PostgreSQL), so two claimers never take the same row and a
    loser moves on to the next candidate instead of coming back empty-handed.
    """
    free = or_(table.c.lease_until.is_(None), table.c.lease_until < now)
    with write(engine) as conn:
        for row_id in conn.execute(candidates).scalars().all():
            pick = (
                select(table.c.id)
                .where(table.c.id == row_id, due, free)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
            stmt = (
                update(table)
                .where(table.c.id == pick, due, free)
                .values(lease_until=now + lease_seconds, lease_owner=owner)
                .returning(*table.c)
            )
            row = conn.execute(stmt).mappings().first()
            if row is not None:
                return dict(row)
    return None


def release(conn, table: Table, row_id: str, owner: str, **values) -> bool:
    """Write `values` and free the lease, only if `owner` still holds it."""
    stmt = (
        update(table)
        .where(table.c.id == row_id, table.c.lease_owner == owner)
        .values(lease_until=None, lease_owner=None, **values)
    )
    return conn.execute(stmt).rowcount == 1
