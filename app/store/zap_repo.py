"""SQL for Zap Runs watching: watches, the Zap runs seen, and their status events."""

from __future__ import annotations

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.store.leases import claim_one, release
from app.store.tables import deliveries, zap_run_events, zap_runs, zap_watches
from app.store.wakeup import notify_work


def insert_watch(conn, values: dict) -> None:
    conn.execute(insert(zap_watches).values(**values))
    notify_work(conn)


def get_watch(conn, watch_id: str) -> dict | None:
    row = conn.execute(select(zap_watches).where(zap_watches.c.id == watch_id)).mappings().first()
    return dict(row) if row else None


def list_watches(conn) -> list[dict]:
    stmt = select(zap_watches).order_by(zap_watches.c.created_at, zap_watches.c.id)
    return [dict(row) for row in conn.execute(stmt).mappings()]


def update_watch(conn, watch_id: str, values: dict) -> bool:
    stmt = update(zap_watches).where(zap_watches.c.id == watch_id).values(**values)
    notify_work(conn)
    return conn.execute(stmt).rowcount == 1


def delete_watch(conn, watch_id: str) -> bool:
    return conn.execute(delete(zap_watches).where(zap_watches.c.id == watch_id)).rowcount == 1


def claim_due_watch(engine, owner: str, now: float, lease: float) -> dict | None:
    due = and_(zap_watches.c.enabled.is_(True), zap_watches.c.next_poll_at <= now)
    return claim_one(engine, zap_watches, due, zap_watches.c.next_poll_at, owner, now, lease)


def release_watch(conn, watch_id: str, owner: str, **values) -> bool:
    """Write a scan step's outcome and free the watch, if `owner` still holds it."""
    return release(conn, zap_watches, watch_id, owner, **values)


def get_zap_run(conn, zap_run_id: str) -> dict | None:
    row = conn.execute(select(zap_runs).where(zap_runs.c.id == zap_run_id)).mappings().first()
    return dict(row) if row else None


def upsert_zap_run(conn, values: dict) -> str | None:
    """Store what upstream says of a Zap run; returns the status it had before (None: new)."""
    known = get_zap_run(conn, values["id"])
    if known is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(zap_runs).values(**values))
            return None
        except IntegrityError:  # another watch stored it a moment ago
            known = get_zap_run(conn, values["id"])
    fresh = {k: v for k, v in values.items() if k != "first_seen_at"}
    conn.execute(update(zap_runs).where(zap_runs.c.id == values["id"]).values(**fresh))
    return known["status"]


def event_for(conn, zap_run_id: str, status: str, make: dict) -> dict:
    """The one event of this (run, status): made now from `make`, or the one made before."""
    try:
        with conn.begin_nested():
            conn.execute(insert(zap_run_events).values(**make))
        return make
    except IntegrityError:
        stmt = select(zap_run_events).where(
            zap_run_events.c.zap_run_id == zap_run_id, zap_run_events.c.status == status
        )
        return dict(conn.execute(stmt).mappings().one())


def zap_runs_page(conn, filters: dict, limit: int, offset: int) -> tuple[int, list[dict]]:
    """(total matching, one page), newest start_time first, as upstream lists them."""
    where = _where(filters)
    total = conn.execute(select(func.count()).select_from(zap_runs).where(*where)).scalar_one()
    stmt = (
        select(zap_runs)
        .where(*where)
        .order_by(zap_runs.c.start_time.desc(), zap_runs.c.id)
        .limit(limit)
        .offset(offset)
    )
    return total, [dict(row) for row in conn.execute(stmt).mappings()]


def deliveries_of_zap_run(conn, zap_run_id: str) -> list[dict]:
    stmt = (
        select(deliveries, zap_run_events.c.status)
        .join(zap_run_events, zap_run_events.c.id == deliveries.c.zap_event_id)
        .where(zap_run_events.c.zap_run_id == zap_run_id)
        .order_by(deliveries.c.created_at)
    )
    return [dict(row) for row in conn.execute(stmt).mappings()]


def _where(filters: dict) -> list:
    where = []
    if filters.get("zap_id") is not None:
        where.append(zap_runs.c.zap_id == filters["zap_id"])
    if filters.get("statuses"):
        where.append(zap_runs.c.status.in_(filters["statuses"]))
    if filters.get("from_date") is not None:
        where.append(zap_runs.c.start_time >= filters["from_date"])
    if filters.get("to_date") is not None:
        where.append(zap_runs.c.start_time < filters["to_date"])
    if filters.get("search"):
        pattern = "%" + _escape_like(filters["search"].lower()) + "%"
        where.append(zap_runs.c.search_text.like(pattern, escape="\\"))
    return where


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
