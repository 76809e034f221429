"""SQL for the shared upstream rate budget: one locked row per account and bucket."""

from __future__ import annotations

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.store.tables import rate_budget

STATE_COLUMNS = (
    "window_start",
    "window_end",
    "used",
    "limit",
    "blocked_until",
    "carried",
    "paced_until",
)


def locked_bucket(conn: Connection, bucket: str, fresh: dict) -> dict:
    """The row of `bucket` ("<account>/<get|run>"), locked for this transaction; `fresh` is
    inserted first when absent."""
    query = select(rate_budget).where(rate_budget.c.bucket == bucket).with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
        # Another process may insert the same bucket at the same moment: theirs stands.
        values = {"bucket": bucket, **fresh}
        conn.execute(insert(rate_budget).values(values).on_conflict_do_nothing())
        row = conn.execute(query).one()
    return {name: row._mapping[name] for name in STATE_COLUMNS}


def save_bucket(conn: Connection, bucket: str, state: dict) -> None:
    conn.execute(update(rate_budget).where(rate_budget.c.bucket == bucket).values(state))


def bucket_rows(conn: Connection) -> dict[str, dict]:
    """Every bucket's stored state, by "<account>/<bucket>"."""
    return {row.bucket: dict(row._mapping) for row in conn.execute(select(rate_budget))}
