"""The sandbox's zap-runs repository: insert, filter and page, change, finish, shared counters."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Row, func, insert, select, update

from app.sandbox.tables import counters, dialect_insert, insert_if_absent, zap_runs

LIST_CALLS = "zap_runs_list_calls"
GENERATED_UNTIL = "zap_runs_generated_until"


@dataclass(frozen=True)
class ZapRunFilter:
    """What a GET /v2/zap-runs query selects; times in microseconds since the epoch."""

    since_us: int
    before_us: int | None = None
    zap_id: int | None = None
    statuses: tuple[str, ...] = ()
    search: str | None = None


def insert_runs(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(insert(zap_runs), rows)


def page(conn: Connection, wanted: ZapRunFilter, limit: int, offset: int) -> tuple[int, list[Row]]:
    """(how many runs match, the page): newest start first, then id, so pages never overlap."""
    conditions = [zap_runs.c.start_us >= wanted.since_us]
    if wanted.before_us is not None:
        conditions.append(zap_runs.c.start_us < wanted.before_us)
    if wanted.zap_id is not None:
        conditions.append(zap_runs.c.zap_id == wanted.zap_id)
    if wanted.statuses:
        conditions.append(zap_runs.c.status.in_(wanted.statuses))
    if wanted.search:
        # autoescape: a % or _ in the search text is matched literally.
        term = wanted.search.casefold()
        conditions.append(zap_runs.c.search_text.contains(term, autoescape=True))
    count = conn.execute(select(func.count()).select_from(zap_runs).where(*conditions)).scalar_one()
    rows = conn.execute(
        select(zap_runs)
        .where(*conditions)
        .order_by(zap_runs.c.start_us.desc(), zap_runs.c.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return count, rows


def find(conn: Connection, run_id: str) -> Row | None:
    return conn.execute(select(zap_runs).where(zap_runs.c.id == run_id)).first()


def change(conn: Connection, run_id: str, values: dict) -> bool:
    """Set `values` on the run; an admin change also stops the run finishing on its own."""
    values = {**values, "finish_us": None, "final_status": None}
    return conn.execute(update(zap_runs).where(zap_runs.c.id == run_id).values(values)).rowcount > 0


def due_to_finish(conn: Connection, now_us: int) -> list[Row]:
    return conn.execute(
        select(
            zap_runs.c.id,
            zap_runs.c.finish_us,
            zap_runs.c.final_status,
            zap_runs.c.zap_title,
            zap_runs.c.data_in_json,
        ).where(zap_runs.c.finish_us <= now_us)
    ).all()


def finish(conn: Connection, run_id: str, finish_us: int, values: dict) -> None:
    """Finish a run as planned, unless another process or an admin change got there first."""
    conn.execute(
        update(zap_runs)
        .where(zap_runs.c.id == run_id, zap_runs.c.finish_us == finish_us)
        .values(**values, finish_us=None, final_status=None)
    )


def count_by_status(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(zap_runs.c.status, func.count()).group_by(zap_runs.c.status))
    return {status: count for status, count in rows}


def read_counter(conn: Connection, name: str) -> int | None:
    return conn.execute(select(counters.c.value).where(counters.c.name == name)).scalar()


def bump_counter(conn: Connection, name: str) -> None:
    stmt = dialect_insert(conn, counters).values(name=name, value=1)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[counters.c.name], set_={"value": counters.c.value + 1}
        )
    )


def set_counter(conn: Connection, name: str, value: int) -> None:
    stmt = dialect_insert(conn, counters).values(name=name, value=value)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=[counters.c.name], set_={"value": value})
    )


def move_counter(conn: Connection, name: str, old: int | None, new: int) -> bool:
    """Compare-and-set, so of processes racing to make the same runs exactly one does."""
    if old is None:
        return conn.execute(insert_if_absent(conn, counters, name=name, value=new)).rowcount > 0
    moved = update(counters).where(counters.c.name == name, counters.c.value == old)
    return conn.execute(moved.values(value=new)).rowcount > 0
