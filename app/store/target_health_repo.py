"""SQL for per-target health: the breaker's state and the last success and failure."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.store.tables import target_health

_FRESH = {"consecutive_failures": 0, "pauses": 0}


def locked_health(conn, key: str) -> dict:
    """The target's row, made when absent and locked for this transaction."""
    insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    conn.execute(insert(target_health).values(target_key=key, **_FRESH).on_conflict_do_nothing())
    stmt = select(target_health).where(target_health.c.target_key == key).with_for_update()
    return dict(conn.execute(stmt).mappings().one())


def save_health(conn, key: str, values: dict) -> None:
    stmt = update(target_health).where(target_health.c.target_key == key)
    conn.execute(stmt.values(**values))


def health_of_many(conn, keys: list[str]) -> dict[str, dict]:
    """Health rows by target key (targets never attempted have none)."""
    if not keys:
        return {}
    stmt = select(target_health).where(target_health.c.target_key.in_(sorted(set(keys))))
    return {row["target_key"]: dict(row) for row in conn.execute(stmt).mappings()}


def reset(conn, key: str) -> None:
    """A target enabled again by hand starts with a closed breaker and no failure streak."""
    stmt = update(target_health).where(target_health.c.target_key == key)
    conn.execute(
        stmt.values(consecutive_failures=0, pauses=0, paused_until=None, failing_since=None)
    )
