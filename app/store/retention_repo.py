"""SQL for retention: delete, a bounded batch per transaction, what is final and past the window.

Each purge picks at most `limit` subjects (relay runs, Zap runs, subject-less deliveries, watch
scan calls), deletes their rows children first, and commits, so no lock is held for long. A
subject with any delivery still open (pending, held, or any state but delivered, failed and
gone) is never picked. On PostgreSQL the subjects are locked with SKIP LOCKED, so workers
purging at once take different ones, and their deliveries are locked and checked again before
anything is deleted: a redeliver that lands meanwhile keeps its subject.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import and_, delete, exists, func, not_, select

from app.delivery.states import DeliveryState
from app.runs.states import FINAL_STATES
from app.store.engine import is_sqlite, write
from app.store.tables import (
    callbacks,
    deliveries,
    delivery_attempts,
    runs,
    upstream_calls,
    zap_run_events,
    zap_runs,
    zap_watches,
)

BATCH = 500
# SQLite has one writer at a time: a smaller batch (tens of milliseconds for 100 runs with 3
# targets, in bench (g)) keeps callbacks and claims from waiting long behind it.
SQLITE_BATCH = 100
FINAL_DELIVERY = tuple(
    s.value for s in (DeliveryState.DELIVERED, DeliveryState.FAILED, DeliveryState.GONE)
)
_FINAL_RUN = tuple(sorted(state.value for state in FINAL_STATES))


def batch_limit(engine) -> int:
    return SQLITE_BATCH if is_sqlite(engine) else BATCH


def purge_batch(engine, cutoff: float, limit: int | None = None) -> Counter[str]:
    """One bounded pass over every kind of subject, each kind in its own transaction of at most
    `limit` subjects (default: batch_limit); rows deleted, by table."""
    limit = limit or batch_limit(engine)
    purged: Counter[str] = Counter()
    for purge in (purge_runs, purge_zap_runs, purge_subjectless, purge_watch_calls):
        with write(engine) as conn:
            purged.update(purge(conn, cutoff, limit))
    return +purged


def purge_runs(conn, cutoff: float, limit: int = BATCH) -> Counter[str]:
    """Final runs settled before `cutoff`, with their callbacks, calls and deliveries."""
    open_delivery = exists().where(deliveries.c.run_id == runs.c.id, _open(deliveries))
    pick = (
        select(runs.c.id)
        .where(
            runs.c.created_at < cutoff,  # settled_at >= created_at: the index narrows first
            runs.c.state.in_(_FINAL_RUN),
            func.coalesce(runs.c.settled_at, runs.c.created_at) < cutoff,
            not_(open_delivery),
        )
        .order_by(runs.c.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(conn.execute(pick).scalars())
    if not ids:
        return Counter()
    ids = _without_open(conn, deliveries.c.run_id, ids, deliveries.c.run_id.in_(ids))
    of_runs = select(deliveries.c.id).where(deliveries.c.run_id.in_(ids))
    return _deleted(
        conn,
        (delivery_attempts, delivery_attempts.c.delivery_id.in_(of_runs)),
        (deliveries, deliveries.c.run_id.in_(ids)),
        (callbacks, callbacks.c.run_id.in_(ids)),
        (upstream_calls, upstream_calls.c.run_id.in_(ids)),
        (runs, runs.c.id.in_(ids)),
    )


def purge_zap_runs(conn, cutoff: float, limit: int = BATCH) -> Counter[str]:
    """Zap runs last seen before `cutoff`, with their events and those events' deliveries.

    A Zap run that an enabled watch's next scan would list again (started at or after its
    mark) is kept: purged, it would come back as new and forward its events a second time.
    """
    open_delivery = (
        select(deliveries.c.id)
        .join(zap_run_events, zap_run_events.c.id == deliveries.c.zap_event_id)
        .where(zap_run_events.c.zap_run_id == zap_runs.c.id, _open(deliveries))
        .exists()
    )
    in_reach = exists().where(
        zap_watches.c.enabled.is_(True), zap_runs.c.start_time >= zap_watches.c.from_date
    )
    pick = (
        select(zap_runs.c.id)
        .where(zap_runs.c.updated_at < cutoff, not_(open_delivery), not_(in_reach))
        .order_by(zap_runs.c.updated_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(conn.execute(pick).scalars())
    if not ids:
        return Counter()
    events_of = select(zap_run_events.c.id).where(zap_run_events.c.zap_run_id.in_(ids))
    ids = _without_open(
        conn,
        zap_run_events.c.zap_run_id,
        ids,
        deliveries.c.zap_event_id.in_(events_of),
        join=(zap_run_events, zap_run_events.c.id == deliveries.c.zap_event_id),
    )
    events_of = select(zap_run_events.c.id).where(zap_run_events.c.zap_run_id.in_(ids))
    of_events = select(deliveries.c.id).where(deliveries.c.zap_event_id.in_(events_of))
    return _deleted(
        conn,
        (delivery_attempts, delivery_attempts.c.delivery_id.in_(of_events)),
        (deliveries, deliveries.c.zap_event_id.in_(events_of)),
        (zap_run_events, zap_run_events.c.zap_run_id.in_(ids)),
        (zap_runs, zap_runs.c.id.in_(ids)),
    )


def purge_subjectless(conn, cutoff: float, limit: int = BATCH) -> Counter[str]:
    """Final deliveries of operational events (no run, no Zap event) made before `cutoff`."""
    pick = (
        select(deliveries.c.id)
        .where(
            deliveries.c.created_at < cutoff,
            func.coalesce(deliveries.c.delivered_at, deliveries.c.created_at) < cutoff,
            deliveries.c.run_id.is_(None),
            deliveries.c.zap_event_id.is_(None),
            deliveries.c.state.in_(FINAL_DELIVERY),
        )
        .order_by(deliveries.c.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)  # locked, so their state stays final until commit
    )
    ids = list(conn.execute(pick).scalars())
    if not ids:
        return Counter()
    return _deleted(
        conn,
        (delivery_attempts, delivery_attempts.c.delivery_id.in_(ids)),
        (deliveries, deliveries.c.id.in_(ids)),
    )


def purge_watch_calls(conn, cutoff: float, limit: int = BATCH) -> Counter[str]:
    """Upstream calls of Zap watch scans (their run_id is the watch's id) made before `cutoff`."""
    pick = (
        select(upstream_calls.c.id)
        .where(upstream_calls.c.run_id.in_(select(zap_watches.c.id)), upstream_calls.c.at < cutoff)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(conn.execute(pick).scalars())
    if not ids:
        return Counter()
    return _deleted(conn, (upstream_calls, upstream_calls.c.id.in_(ids)))


def _open(table):
    return table.c.state.not_in(FINAL_DELIVERY)


def _without_open(conn, subject_column, ids: list, where, join=None) -> list:
    """`ids` less those with a delivery that became open since they were picked. The rows are
    locked (PostgreSQL), so no redeliver can reopen one between this check and the delete."""
    query = select(subject_column, deliveries.c.state).where(where)
    if join is not None:
        query = query.select_from(deliveries.join(*join))
    query = query.with_for_update(of=deliveries)
    reopened = {subject for subject, state in conn.execute(query) if state not in FINAL_DELIVERY}
    return [subject for subject in ids if subject not in reopened]


def _deleted(conn, *steps) -> Counter[str]:
    """Run the deletes in order (children first); rows deleted by table."""
    purged: Counter[str] = Counter()
    for table, where in steps:
        purged[table.name] += conn.execute(delete(table).where(and_(where))).rowcount
    return purged
