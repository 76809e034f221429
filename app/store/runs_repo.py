"""SQL for runs: insert, look up, guarded state changes (the claims: run_claims.py)."""

from __future__ import annotations

from functools import cache

from sqlalchemy import and_, bindparam, insert, literal, or_, select, update
from sqlalchemy.exc import CompileError, IntegrityError

from app.runs.states import RunKind, RunState, sources_for
from app.store.tables import callbacks, runs

# Constant statements, values bound at execution: SQLAlchemy compiles each once per column set
# instead of building and cache-keying a new statement on every call (the callback hot path).
_GET_RUN = select(runs).where(runs.c.id == bindparam("match_id"))
_UPDATE_RUN = update(runs).where(runs.c.id == bindparam("match_id"))
_INSERT_RUN = insert(runs)
_INSERT_CALLBACK = insert(callbacks)
_RUN_COLUMNS = frozenset(runs.c.keys())


def _columns(values: dict) -> dict:
    # Execution parameters that name no column are silently dropped; `.values()` refused them.
    unknown = values.keys() - _RUN_COLUMNS
    if unknown:
        raise CompileError(f"Unconsumed column names: {', '.join(sorted(unknown))}")
    return values


@cache
def _move_statement(target: RunState):
    # Plain bound values, not an expanding IN: nothing to re-render on each execution.
    return _UPDATE_RUN.where(runs.c.state.in_([literal(s) for s in sources_for(target)]))


def insert_run(conn, values: dict) -> bool:
    """Insert a run; False when its idempotency key is already taken."""
    try:
        with conn.begin_nested():
            conn.execute(_INSERT_RUN, _columns(values))
    except IntegrityError:
        return False
    return True


def get_run(conn, run_id: str) -> dict | None:
    row = conn.execute(_GET_RUN, {"match_id": run_id}).mappings().first()
    return dict(row) if row else None


def find_by_idempotency(conn, kind: str, idempotency_id: str) -> dict | None:
    stmt = select(runs).where(runs.c.kind == kind, runs.c.idempotency_id == idempotency_id)
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def update_run(conn, run_id: str, **values) -> None:
    conn.execute(_UPDATE_RUN, {**_columns(values), "match_id": run_id})


def move_run(conn, run_id: str, target: RunState, **values) -> bool:
    """Move a run to `target` only from a state allowed to reach it; False if it was not."""
    params = {**_columns(values), "state": target.value, "match_id": run_id}
    return conn.execute(_move_statement(target), params).rowcount == 1


def store_late_result(conn, run_id: str, result_text: str, now: float) -> bool:
    """Keep the first result that comes after the run expired; False if it has one already."""
    stmt = _UPDATE_RUN.where(
        runs.c.state == RunState.EXPIRED.value, runs.c.result_json.is_(None)
    ).values(result_json=result_text, updated_at=now)
    return conn.execute(stmt, {"match_id": run_id}).rowcount == 1


def hold_account_runs(conn, account_id: str, reason: str) -> int:
    """Say why every open run of an account waits (its token was refused): the claims skip
    them until the token is replaced; the next submission or poll writes its own reason."""
    waiting = [RunState.QUEUED.value, RunState.SUBMITTED.value, RunState.WAITING.value]
    stmt = (
        update(runs)
        .where(runs.c.account_id == account_id, runs.c.state.in_(waiting))
        .values(reason=reason)
    )
    return conn.execute(stmt).rowcount


def list_runs(
    conn,
    *,
    status=None,
    stored_action_id=None,
    account_id=None,
    created_after=None,
    after=None,
    limit,
):
    """Newest first; `after` is the (created_at, id) of the last row of the previous page."""
    stmt = select(runs)
    if status:
        stmt = stmt.where(runs.c.state == status)
    if stored_action_id:
        stmt = stmt.where(runs.c.stored_action_id == stored_action_id)
    if account_id:
        stmt = stmt.where(runs.c.account_id == account_id)
    if created_after is not None:
        stmt = stmt.where(runs.c.created_at > created_after)
    return newest_first_page(conn, stmt, after, limit)


def newest_first_page(conn, stmt, after: tuple[float, str] | None, limit: int) -> list[dict]:
    """One page of `stmt`'s runs, newest first, after the (created_at, id) cursor `after`."""
    if after is not None:
        created, run_id = after
        stmt = stmt.where(
            or_(runs.c.created_at < created, and_(runs.c.created_at == created, runs.c.id < run_id))
        )
    stmt = stmt.order_by(runs.c.created_at.desc(), runs.c.id.desc()).limit(limit)
    return [dict(row) for row in conn.execute(stmt).mappings()]


def insert_callback(conn, values: dict) -> None:
    conn.execute(_INSERT_CALLBACK, values)


def callbacks_of(conn, run_id: str) -> list[dict]:
    stmt = select(callbacks).where(callbacks.c.run_id == run_id).order_by(callbacks.c.id)
    return [dict(row) for row in conn.execute(stmt).mappings()]


def recent_settle_sources(conn, kind: str, limit: int) -> list[str]:
    """How the last `limit` runs of `kind` settled by a result were settled: callback or poll."""
    stmt = (
        select(runs.c.source)
        .where(runs.c.kind == kind, runs.c.source.in_(("callback", "poll")))
        .order_by(runs.c.created_at.desc())
        .limit(limit)
    )
    return list(conn.execute(stmt).scalars().all())


def latest_runs_of_action(conn, account: str, kind: str, key: str, limit: int) -> list[dict]:
    """The last `limit` runs of one account's stored action (`kind` stored_action) or v2 action
    submitted upstream: what their durations were, or how old they are while open."""
    column = runs.c.stored_action_id if kind == RunKind.STORED_ACTION else runs.c.action
    stmt = (
        select(
            runs.c.state,
            runs.c.source,
            runs.c.submitted_at,
            runs.c.settled_at,
            runs.c.last_pending_at,
        )
        .where(column == key, runs.c.kind == kind, runs.c.account_id == account)
        .where(runs.c.submitted_at.is_not(None))
        .order_by(runs.c.submitted_at.desc())
        .limit(limit)
    )
    return [dict(row._mapping) for row in conn.execute(stmt)]
