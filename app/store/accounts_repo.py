"""SQL for Zapier accounts: their sealed tokens, budgets and state."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, update

from app.runs.states import OPEN_STATES
from app.store.tables import accounts, runs, zap_watches
from app.store.wakeup import notify_work


def get_account(conn, account_id: str) -> dict | None:
    row = conn.execute(select(accounts).where(accounts.c.id == account_id)).mappings().first()
    return dict(row) if row else None


def list_accounts(conn) -> list[dict]:
    stmt = select(accounts).order_by(accounts.c.id)
    return [dict(row) for row in conn.execute(stmt).mappings()]


def insert_account(conn, values: dict) -> None:
    conn.execute(insert(accounts).values(**values))


def update_account(conn, account_id: str, values: dict) -> bool:
    stmt = update(accounts).where(accounts.c.id == account_id).values(**values)
    changed = conn.execute(stmt).rowcount == 1
    if changed and values.get("state") == "active":
        notify_work(conn)  # its held submissions and polls may go again
    return changed


def delete_account(conn, account_id: str) -> bool:
    return conn.execute(delete(accounts).where(accounts.c.id == account_id)).rowcount == 1


def open_work_of(conn, account_id: str) -> tuple[int, int]:
    """(open runs, watches) that still use the account."""
    open_runs = conn.execute(
        select(func.count())
        .select_from(runs)
        .where(runs.c.account_id == account_id, runs.c.state.in_([s.value for s in OPEN_STATES]))
    ).scalar_one()
    watches = conn.execute(
        select(func.count()).select_from(zap_watches).where(zap_watches.c.account_id == account_id)
    ).scalar_one()
    return open_runs, watches


def unauthorized_ids(conn) -> list[str]:
    """Accounts whose token upstream refused: their submissions and polls wait."""
    stmt = select(accounts.c.id).where(accounts.c.state == "unauthorized")
    return list(conn.execute(stmt).scalars())


def replace_ciphertext(conn, account_id: str, updated_at: float, new: str) -> bool:
    """Re-encryption's write, only if the row is as it was read (`updated_at`: a PATCH that
    replaced the token meanwhile wins). Keeps updated_at: the token itself did not change."""
    stmt = (
        update(accounts)
        .where(accounts.c.id == account_id, accounts.c.updated_at == updated_at)
        .values(token_ciphertext=new)
    )
    return conn.execute(stmt).rowcount == 1


def mark_unauthorized(
    conn, account_id: str, token_fingerprint: str, detail: str, at: float
) -> bool:
    """Upstream refused the token with this fingerprint: the account's work waits. False when
    the account is unauthorized already or its token was replaced meanwhile (a PATCH won)."""
    stmt = (
        update(accounts)
        .where(
            accounts.c.id == account_id,
            accounts.c.state == "active",
            accounts.c.token_fingerprint == token_fingerprint,
        )
        .values(state="unauthorized", unauthorized_at=at, unauthorized_detail=detail)
    )
    return conn.execute(stmt).rowcount == 1
