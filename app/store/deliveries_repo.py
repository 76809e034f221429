"""SQL for deliveries and their attempts: insert, claim in batches, release, requeue."""

from __future__ import annotations

from sqlalchemy import and_, case, exists, func, insert, not_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.delivery.states import DeliveryState
from app.store.engine import write
from app.store.leases import any_free_due, claim_one, lease_free
from app.store.tables import deliveries, delivery_attempts, target_health
from app.store.wakeup import notify_work

# A delivery that already exists (same subject, target and event) is skipped by the database
# itself: no SAVEPOINT and no IntegrityError round trip, and PostgreSQL's transaction stays usable.
_INSERT_NEW = {
    "sqlite": sqlite.insert(deliveries).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(deliveries).on_conflict_do_nothing(),
}


def target_key(webhook_id: str | None, url: str) -> str:
    """Who a delivery is for: a subscription by its id, a run's own callback_url by its URL."""
    return webhook_id if webhook_id is not None else f"url:{url}"


def insert_deliveries(conn, rows: list[dict]) -> int:
    """Insert the rows that are new (never two deliveries of one event to one target)."""
    statement = _INSERT_NEW[conn.dialect.name]
    created = 0
    for row in rows:
        keyed = {
            "target_key": target_key(row["webhook_id"], row["target_url"]),
            "requeue_requested": False,
            **row,
        }
        created += conn.execute(statement, keyed).rowcount
    if created:
        notify_work(conn)
    return created


def insert_delivery(conn, values: dict) -> bool:
    """False when this subject already has this event for this target."""
    return insert_deliveries(conn, [values]) == 1


def _due(now: float):
    """Pending, its time come, and its target's breaker not open."""
    paused = exists().where(
        target_health.c.target_key == deliveries.c.target_key,
        target_health.c.paused_until > now,
    )
    return and_(
        deliveries.c.state == DeliveryState.PENDING,
        deliveries.c.next_attempt_at <= now,
        not_(paused),
    )


def claim_due_delivery(engine, owner: str, now: float, lease: float) -> dict | None:
    order = deliveries.c.next_attempt_at
    return claim_one(engine, deliveries, _due(now), order, owner, now, lease)


def claim_due_deliveries(
    engine,
    owner: str,
    now: float,
    lease: float,
    limit: int,
    skip_targets: frozenset[str],
    per_target: int,
    look_first: bool = False,
) -> list[dict]:
    """Lease up to `limit` due deliveries, at most `per_target` of any one target and none
    for a target in `skip_targets` (at its cap), oldest due first. `look_first`: read
    whether any is due before taking the write lock (a claim on a timer, not on new work).

    The per-target bound is in the query (a window function), so a backlog for one target is
    not claimed only to be handed back. Window functions and FOR UPDATE do not mix: two
    claimers may pick the same row, and the UPDATE's own lease check lets one of them have it.
    """
    due = _due(now)
    if skip_targets:
        due = and_(due, deliveries.c.target_key.not_in(sorted(skip_targets)))
    if look_first and not any_free_due(engine, deliveries, due, now):
        return []  # woken by the clock, not by new work: nothing due, no write lock taken
    ranked = (
        select(
            deliveries.c.id,
            deliveries.c.next_attempt_at,
            func.row_number()
            .over(partition_by=deliveries.c.target_key, order_by=deliveries.c.next_attempt_at)
            .label("rank"),
        )
        .where(due, lease_free(deliveries, now))
        .subquery()
    )
    pick = (
        select(ranked.c.id)
        .where(ranked.c.rank <= per_target)
        .order_by(ranked.c.next_attempt_at)
        .limit(limit)
    )
    stmt = (
        update(deliveries)
        # Rechecked on the row as it is when the UPDATE gets it: on PostgreSQL a claim that
        # waited for another worker's lock must not take a row that worker has delivered and
        # released meanwhile (a second send of the same webhook-id).
        .where(
            deliveries.c.id.in_(pick.scalar_subquery()),
            lease_free(deliveries, now),
            deliveries.c.state == DeliveryState.PENDING,
            deliveries.c.next_attempt_at <= now,
        )
        .values(lease_until=now + lease, lease_owner=owner)
        .returning(*deliveries.c)
    )
    with write(engine) as conn:
        rows = conn.execute(stmt).mappings().all()
    return sorted((dict(row) for row in rows), key=lambda row: row["next_attempt_at"])


def release_delivery(conn, delivery_id: str, owner: str, now: float, **values) -> bool:
    """Write an attempt's outcome and free the delivery, if `owner` still holds it.

    A redeliver asked for during the attempt wins: the delivery is pending again at once, with
    a fresh series of attempts, and the flag is cleared.
    """
    held = and_(deliveries.c.id == delivery_id, deliveries.c.lease_owner == owner)
    flag = conn.execute(
        select(deliveries.c.requeue_requested).where(held).with_for_update()
    ).scalar_one_or_none()
    if flag is None:
        return False  # the lease lapsed and another worker has it: its outcome stands
    if flag:
        values = {**values, **_REQUEUE, "next_attempt_at": now}
        notify_work(conn)
    stmt = update(deliveries).where(held)
    conn.execute(stmt.values(lease_until=None, lease_owner=None, requeue_requested=False, **values))
    return True


def release_unattempted(conn, delivery_ids: list[str], owner: str, now: float) -> int:
    """Give back leases of sends cut short by a stop: no attempt counted, due at once."""
    if not delivery_ids:
        return 0
    stmt = (
        update(deliveries)
        .where(deliveries.c.id.in_(delivery_ids), deliveries.c.lease_owner == owner)
        .values(lease_until=None, lease_owner=None, next_attempt_at=now)
    )
    notify_work(conn)
    return conn.execute(stmt).rowcount


def record_attempt(conn, values: dict) -> None:
    conn.execute(insert(delivery_attempts).values(**values))


def deliveries_of(conn, run_id: str) -> list[dict]:
    stmt = select(deliveries).where(deliveries.c.run_id == run_id).order_by(deliveries.c.created_at)
    return [dict(row) for row in conn.execute(stmt).mappings()]


def attempts_of(conn, delivery_ids: list[str]) -> list[dict]:
    if not delivery_ids:
        return []
    stmt = (
        select(delivery_attempts)
        .where(delivery_attempts.c.delivery_id.in_(delivery_ids))
        .order_by(delivery_attempts.c.id)
    )
    return [dict(row) for row in conn.execute(stmt).mappings()]


def requeue_run_deliveries(conn, run_id: str, now: float) -> int:
    """Redeliver: the same events (same webhook-id), a fresh series of attempts.

    A delivery whose attempt is in flight is not touched but flagged: it goes again when that
    attempt ends, so two sends of one event never overlap.
    """
    in_flight = and_(deliveries.c.lease_until.is_not(None), deliveries.c.lease_until >= now)
    # Held ones wait for their target to be enabled, not for a redelivery.
    of_run = and_(deliveries.c.run_id == run_id, deliveries.c.state != DeliveryState.HELD)
    flagged = conn.execute(
        update(deliveries).where(of_run, in_flight).values(requeue_requested=True)
    ).rowcount
    reset = conn.execute(
        update(deliveries).where(of_run, not_(in_flight)).values(**_REQUEUE, next_attempt_at=now)
    ).rowcount
    notify_work(conn)
    return flagged + reset


# What a redelivery writes; next_attempt_at is "now" as the database sees the release.
_REQUEUE = {"state": DeliveryState.PENDING.value, "attempts": 0, "last_error": None}


def hold(conn, delivery_id: str, owner: str, why: str) -> bool:
    """Its target is disabled: the delivery waits, unattempted, until the target is enabled."""
    held = and_(deliveries.c.id == delivery_id, deliveries.c.lease_owner == owner)
    values = {"state": DeliveryState.HELD.value, "last_error": why}
    stmt = update(deliveries).where(held).values(lease_until=None, lease_owner=None, **values)
    return conn.execute(stmt).rowcount == 1


def release_held(conn, webhook_id: str) -> int:
    """The target is enabled again: its held deliveries are due, oldest first."""
    stmt = (
        update(deliveries)
        .where(deliveries.c.webhook_id == webhook_id, deliveries.c.state == DeliveryState.HELD)
        .values(
            state=DeliveryState.PENDING.value,
            next_attempt_at=deliveries.c.created_at,
            last_error=None,
        )
    )
    count = conn.execute(stmt).rowcount
    if count:
        notify_work(conn)
    return count


def get_delivery(conn, delivery_id: str) -> dict | None:
    row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).mappings().first()
    return dict(row) if row else None


def requeue_delivery(conn, delivery_id: str, now: float) -> bool:
    """One delivery again (same webhook-id); behind its attempt if one is in flight."""
    in_flight = and_(deliveries.c.lease_until.is_not(None), deliveries.c.lease_until >= now)
    this = deliveries.c.id == delivery_id
    flagged = conn.execute(
        update(deliveries).where(this, in_flight).values(requeue_requested=True)
    ).rowcount
    reset = conn.execute(
        update(deliveries).where(this, not_(in_flight)).values(**_REQUEUE, next_attempt_at=now)
    ).rowcount
    notify_work(conn)
    return flagged + reset == 1


def recover_failed(
    conn, webhook_id: str, since: float, until: float, now: float, limit: int
) -> tuple[int, bool]:
    """Failed deliveries of one target created in [since, until) due again, oldest first, at
    most `limit`; (how many, whether more were left). Pending ones are not touched, so a
    repeat while they are queued adds nothing."""
    failed = and_(
        deliveries.c.webhook_id == webhook_id,
        deliveries.c.state == DeliveryState.FAILED,
        deliveries.c.created_at >= since,
        deliveries.c.created_at < until,
    )
    pick = (
        select(deliveries.c.id)
        .where(failed)
        .order_by(deliveries.c.created_at, deliveries.c.id)
        .limit(limit + 1)
    )
    ids = list(conn.execute(pick).scalars())
    chosen = ids[:limit]
    if chosen:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(chosen), deliveries.c.state == DeliveryState.FAILED)
            .values(**_REQUEUE, next_attempt_at=deliveries.c.created_at)
        )
        notify_work(conn)
    return len(chosen), len(ids) > limit


def attempt_counts(conn, webhook_id: str, since: float) -> tuple[int, int]:
    """(attempts, 2xx answers) of one target's deliveries since `since`."""
    ok = case((delivery_attempts.c.status.between(200, 299), 1), else_=0)
    stmt = (
        select(func.count(), func.coalesce(func.sum(ok), 0))
        .select_from(delivery_attempts.join(deliveries))
        .where(deliveries.c.webhook_id == webhook_id, delivery_attempts.c.attempted_at >= since)
    )
    tried, succeeded = conn.execute(stmt).one()
    return int(tried), int(succeeded)
