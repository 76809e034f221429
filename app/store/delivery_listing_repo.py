"""SQL for the deliveries list: filters by state, target, event type, subject and time, and
keyset paging newest first."""

from __future__ import annotations

from sqlalchemy import and_, exists, not_, or_, select

from app.delivery.states import DeliveryState
from app.store.tables import deliveries, runs, target_health


def _paused(now: float):
    return exists().where(
        target_health.c.target_key == deliveries.c.target_key,
        target_health.c.paused_until > now,
    )


def _state_filter(state: str, now: float):
    """`paused` is a view: pending, with the target's breaker open; `pending` excludes it."""
    pending = deliveries.c.state == DeliveryState.PENDING
    if state == "paused":
        return and_(pending, _paused(now))
    if state == DeliveryState.PENDING:
        return and_(pending, not_(_paused(now)))
    return deliveries.c.state == state


def list_deliveries(conn, filters: dict, after: tuple[float, str] | None, limit: int, now: float):
    """Newest first; `after` is the (created_at, id) of the last row of the previous page."""
    stmt = select(deliveries)
    if filters.get("state"):
        stmt = stmt.where(_state_filter(filters["state"], now))
    for name in ("webhook_id", "event_type", "run_id", "zap_event_id"):
        if filters.get(name):
            stmt = stmt.where(deliveries.c[name] == filters[name])
    if filters.get("account"):
        # A run's deliveries are its account's; Zap run events and operational events have none.
        of_account = select(runs.c.id).where(runs.c.account_id == filters["account"])
        stmt = stmt.where(deliveries.c.run_id.in_(of_account))
    if filters.get("since") is not None:
        stmt = stmt.where(deliveries.c.created_at >= filters["since"])
    if filters.get("until") is not None:
        stmt = stmt.where(deliveries.c.created_at < filters["until"])
    if after is not None:
        created, delivery_id = after
        stmt = stmt.where(
            or_(
                deliveries.c.created_at < created,
                and_(deliveries.c.created_at == created, deliveries.c.id < delivery_id),
            )
        )
    stmt = stmt.order_by(deliveries.c.created_at.desc(), deliveries.c.id.desc()).limit(limit)
    return [dict(row) for row in conn.execute(stmt).mappings()]
