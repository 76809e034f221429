"""The sandbox repository: runs, idempotency keys, knob overrides, reset and counts."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from app.sandbox.outcome import RunPlan
from app.sandbox.tables import (
    callbacks,
    counters,
    dialect_insert,
    idempotency,
    knob_overrides,
    revoked_tokens,
    runs,
    windows,
    zap_runs,
)


def load_knob_overrides(conn: Connection) -> dict[str, Any]:
    rows = conn.execute(select(knob_overrides.c.name, knob_overrides.c.value_json))
    return {row.name: json.loads(row.value_json) for row in rows}


def save_knob_overrides(conn: Connection, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        stmt = dialect_insert(conn, knob_overrides).values(name=name, value_json=json.dumps(value))
        stmt = stmt.on_conflict_do_update(
            index_elements=[knob_overrides.c.name], set_={"value_json": stmt.excluded.value_json}
        )
        conn.execute(stmt)


def claim_idempotency_key(
    conn: Connection,
    stored_action_id: str,
    idempotency_id: str,
    run_id: str,
    now: float,
    cutoff: float,
) -> str:
    """The run id this key stands for: `run_id` if the key is new or older than `cutoff`,
    otherwise the original run's. One statement, so racing processes agree."""
    stmt = dialect_insert(conn, idempotency).values(
        stored_action_id=stored_action_id,
        idempotency_id=idempotency_id,
        run_id=run_id,
        created_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[idempotency.c.stored_action_id, idempotency.c.idempotency_id],
        set_={"run_id": stmt.excluded.run_id, "created_at": stmt.excluded.created_at},
        where=idempotency.c.created_at < cutoff,
    ).returning(idempotency.c.run_id)
    claimed = conn.execute(stmt).scalar()
    if claimed is not None:
        return claimed
    return conn.execute(
        select(idempotency.c.run_id).where(
            idempotency.c.stored_action_id == stored_action_id,
            idempotency.c.idempotency_id == idempotency_id,
        )
    ).scalar_one()


def insert_run(conn: Connection, plan: RunPlan, callback_url: str | None) -> None:
    conn.execute(
        insert(runs).values(
            id=plan.run_id,
            kind=plan.kind,
            stored_action_id=plan.stored_action_id,
            created_at=plan.created_at,
            done_at=plan.done_at,
            status=plan.status,
            result_json=plan.result_body,
        )
    )
    if not plan.callbacks:
        return
    conn.execute(
        insert(callbacks),
        [
            {
                "run_id": plan.run_id,
                "seq": cb.seq,
                "phase": cb.phase,
                "duplicate": cb.duplicate,
                "url": callback_url,
                "body": cb.body,
                "due_at": cb.due_at,
                "state": "dropped" if cb.dropped else "pending",
                "attempts": 0,
                "failed_attempts": 0,
            }
            for cb in plan.callbacks
        ],
    )


def find_run(conn: Connection, run_id: str):
    """The run's row (kind, stored_action_id, created_at, done_at, result_json) or None."""
    return conn.execute(
        select(
            runs.c.kind,
            runs.c.stored_action_id,
            runs.c.created_at,
            runs.c.done_at,
            runs.c.result_json,
        ).where(runs.c.id == run_id)
    ).first()


def runs_by_kind(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(runs.c.kind, func.count()).group_by(runs.c.kind))
    return {kind: count for kind, count in rows}


def forget_everything(conn: Connection) -> None:
    """Runs, zap runs, keys, callbacks, counters, revoked tokens and knob overrides go; the
    signing key stays, so a relay that cached the key set keeps verifying."""
    tables = (callbacks, idempotency, runs, zap_runs, counters, windows, revoked_tokens)
    for table in (*tables, knob_overrides):
        conn.execute(delete(table))


def forget_expired(conn: Connection, run_cutoff: float, key_cutoff: float) -> int:
    """Drop runs past retention (with their settled callbacks) and idempotency keys past
    their 72 hours, so the database stays small however long the sandbox runs."""
    old = select(runs.c.id).where(runs.c.created_at < run_cutoff)
    conn.execute(
        delete(callbacks).where(callbacks.c.run_id.in_(old), callbacks.c.state != "pending")
    )
    conn.execute(delete(idempotency).where(idempotency.c.created_at < key_cutoff))
    return conn.execute(delete(runs).where(runs.c.created_at < run_cutoff)).rowcount
