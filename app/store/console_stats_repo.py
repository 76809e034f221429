"""SQL for the operator console: the last day's aggregates and the runs search, read-only."""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select

from app.runs.states import OPEN_STATES, RunKind
from app.store import runs_repo
from app.store.tables import deliveries, delivery_attempts, runs, upstream_calls

SETTLE_SOURCES = ("callback", "poll")


def runs_by_state(conn, since: float) -> dict[str, int]:
    """Runs created since `since`, counted by state."""
    stmt = (
        select(runs.c.state, func.count()).where(runs.c.created_at >= since).group_by(runs.c.state)
    )
    return dict(conn.execute(stmt).all())


def settle_sources(conn, since: float) -> dict[str, tuple[int, int]]:
    """Per source, (runs a result settled since `since`, of which stored actions). Grouped by
    source alone: grouped by kind too, SQLite walks the idempotency index, ten times slower."""
    stored = func.sum(case((runs.c.kind == RunKind.STORED_ACTION.value, 1), else_=0))
    stmt = (
        select(runs.c.source, func.count(), stored)
        .where(runs.c.settled_at >= since, runs.c.source.in_(SETTLE_SOURCES))
        .group_by(runs.c.source)
    )
    return {source: (int(n), int(s or 0)) for source, n, s in conn.execute(stmt).all()}


def _slot_sums(column, start: float, step: float, slots: int) -> list:
    """One SUM(CASE) per slot: exact on both databases in one scan, where an integer division
    of floats rounds on PostgreSQL and truncates on SQLite."""
    return [
        func.sum(
            case(
                (and_(column >= start + i * step, column < start + (i + 1) * step), 1),
                else_=0,
            )
        )
        for i in range(slots)
    ]


def settled_per_slot(conn, start: float, step: float, slots: int) -> dict[str, list[int]]:
    """Per source (callback, poll): how many runs settled in each slot from `start` on."""
    stmt = (
        select(runs.c.source, *_slot_sums(runs.c.settled_at, start, step, slots))
        .where(runs.c.settled_at >= start, runs.c.source.in_(SETTLE_SOURCES))
        .group_by(runs.c.source)
    )
    return {row[0]: [int(n or 0) for n in row[1:]] for row in conn.execute(stmt).all()}


def calls_per_slot(conn, start: float, step: float, slots: int) -> dict[str, list[int]]:
    """Per operation: upstream calls made in each slot from `start` on."""
    stmt = (
        select(upstream_calls.c.operation, *_slot_sums(upstream_calls.c.at, start, step, slots))
        .where(upstream_calls.c.at >= start)
        .group_by(upstream_calls.c.operation)
    )
    return {row[0]: [int(n or 0) for n in row[1:]] for row in conn.execute(stmt).all()}


def forward_latencies(conn, since: float, limit: int) -> list[tuple[float, float]]:
    """(delivered_at, seconds from the run's settlement to its forward's 2xx) of the newest
    `limit` run forwards delivered since `since`."""
    stmt = (
        select(deliveries.c.delivered_at, deliveries.c.delivered_at - runs.c.settled_at)
        .join(runs, runs.c.id == deliveries.c.run_id)
        .where(deliveries.c.delivered_at >= since, runs.c.settled_at.is_not(None))
        .order_by(deliveries.c.delivered_at.desc())
        .limit(limit)
    )
    return [(float(at), max(0.0, float(wait))) for at, wait in conn.execute(stmt).all()]


def attempt_latencies(conn, since: float, limit: int) -> list[float]:
    """Milliseconds the targets took to answer, for the newest `limit` attempts since `since`."""
    stmt = (
        select(delivery_attempts.c.latency_ms)
        .where(delivery_attempts.c.attempted_at >= since)
        .order_by(delivery_attempts.c.attempted_at.desc())
        .limit(limit)
    )
    return [float(ms) for ms in conn.execute(stmt).scalars()]


def oldest_open_run(conn) -> dict | None:
    open_states = sorted(state.value for state in OPEN_STATES)
    stmt = (
        select(runs.c.id, runs.c.state, runs.c.account_id, runs.c.created_at, runs.c.kind)
        .where(runs.c.state.in_(open_states))
        .order_by(runs.c.created_at, runs.c.id)
        .limit(1)
    )
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def search_runs(conn, filters: dict, after: tuple[float, str] | None, limit: int) -> list[dict]:
    """Newest first, by state, account, stored action, a created-at range, or an id (the relay's
    or upstream's); `after` is the (created_at, id) of the previous page's last row."""
    stmt = select(
        runs.c.id,
        runs.c.kind,
        runs.c.account_id,
        runs.c.stored_action_id,
        runs.c.state,
        runs.c.source,
        runs.c.upstream_run_id,
        runs.c.created_at,
        runs.c.settled_at,
    )
    if filters.get("id"):
        stmt = stmt.where(or_(runs.c.id == filters["id"], runs.c.upstream_run_id == filters["id"]))
    for name, column in (
        ("state", runs.c.state),
        ("account_id", runs.c.account_id),
        ("stored_action_id", runs.c.stored_action_id),
    ):
        if filters.get(name):
            stmt = stmt.where(column == filters[name])
    if filters.get("since") is not None:
        stmt = stmt.where(runs.c.created_at >= filters["since"])
    if filters.get("until") is not None:
        stmt = stmt.where(runs.c.created_at < filters["until"])
    return runs_repo.newest_first_page(conn, stmt, after, limit)
