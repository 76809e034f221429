"""Atomic claims: one UPDATE picks a due row whose lease is free and leases it to one owner."""

from __future__ import annotations

from collections.abc import Callable, Collection

from sqlalchemy import Engine, Select, Table, or_, select, update

from app.store.engine import read, write


def claim_one(
    engine: Engine, table: Table, due, order_by, owner: str, now: float, lease_seconds: float
) -> dict | None:
    """Lease the first due row to `owner`; None when nothing is due.

    On PostgreSQL the picking SELECT is FOR UPDATE SKIP LOCKED, so concurrent claimers take
    different rows; on SQLite the write transaction (BEGIN IMMEDIATE) serializes them.
    """
    free = lease_free(table, now)
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
    candidates: Callable[[Collection[str]], Select],
    due,
    fallback_order,
    owner: str,
    now: float,
    lease_seconds: float,
    rounds: int = 2,
) -> dict | None:
    """Lease the best row that `candidates(passed_over)` names (a SELECT of ids, best first,
    leaving out the ids passed over) while it is still due and free; None when none is.

    For orders FOR UPDATE cannot take (aggregates, window functions): the ids are read first,
    then each is leased by an UPDATE that re-checks `due` and the lease, and skips a row that
    another claimer has locked (SKIP LOCKED on PostgreSQL), so two claimers never take the same
    row. A claimer that lost every candidate asks again without them; after `rounds` it takes
    the first due row by `fallback_order` (claim_one), so it never comes back empty-handed
    while work is left, however many claimers race for the same few rows.
    """
    free = lease_free(table, now)
    passed_over: set[str] = set()
    with write(engine) as conn:
        for _ in range(rounds):
            ids = conn.execute(candidates(passed_over)).scalars().all()
            if not ids:
                return None
            for row_id in ids:
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
                passed_over.add(row_id)
    return claim_one(engine, table, due, fallback_order, owner, now, lease_seconds)


def lease_free(table: Table, now: float):
    """The rows no claimer holds now: never leased, or their lease has run out."""
    return or_(table.c.lease_until.is_(None), table.c.lease_until < now)


def any_free_due(engine: Engine, table: Table, due, now: float) -> bool:
    """Whether a due row is free to lease, read without a write transaction: a claimer that
    woke on a timer, not on a ring, looks before it takes the write lock (on SQLite, a turn
    at the write gate) that an idle worker would otherwise take every time."""
    free = lease_free(table, now)
    with read(engine) as conn:
        return conn.execute(select(table.c.id).where(due, free).limit(1)).first() is not None


def release(conn, table: Table, row_id: str, owner: str, **values) -> bool:
    """Write `values` and free the lease, only if `owner` still holds it."""
    stmt = (
        update(table)
        .where(table.c.id == row_id, table.c.lease_owner == owner)
        .values(lease_until=None, lease_owner=None, **values)
    )
    return conn.execute(stmt).rowcount == 1
