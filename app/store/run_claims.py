"""The worker's claims of due submissions and polls, the accounts taking turns.

A plain "oldest due first" would let one account with a thousand runs queued delay every other
account's runs by a thousand calls. Here each claim takes, among the accounts with due work,
the one with the fewest runs in flight plus calls made in its current budget window, and that
account's oldest due run: the accounts are served round by round.
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select

from app.runs.states import RunState
from app.store.leases import claim_first, lease_free
from app.store.tables import accounts, rate_budget, runs


def claim_due_submission(
    engine, owner: str, now: float, lease: float, max_age: float | None = None
) -> dict | None:
    """A queued run whose time has come, the accounts taking turns (see _fair_candidates)."""
    due = and_(
        runs.c.state == RunState.QUEUED.value,
        runs.c.next_submit_at <= now,
        _account_usable(now, max_age),
    )
    return claim_first(
        engine,
        runs,
        lambda passed_over: _fair_candidates(due, runs.c.next_submit_at, "run", now, passed_over),
        due,
        runs.c.next_submit_at,
        owner,
        now,
        lease,
    )


def claim_due_poll(
    engine, owner: str, now: float, lease: float, max_age: float | None = None
) -> dict | None:
    """A run whose poll is due, the accounts taking turns (see _fair_candidates)."""
    due = and_(
        runs.c.state.in_([RunState.SUBMITTED.value, RunState.WAITING.value]),
        runs.c.next_poll_at <= now,
        _account_usable(now, max_age),
        _budget_open(now),
    )
    return claim_first(
        engine,
        runs,
        lambda passed_over: _fair_candidates(due, runs.c.next_poll_at, "get", now, passed_over),
        due,
        runs.c.next_poll_at,
        owner,
        now,
        lease,
    )


# Claimers look at this many candidates: a few spare for rows another claimer takes first.
CLAIM_CANDIDATES = 8


def _account_usable(now: float, max_age: float | None):
    """Not a run of an account whose token upstream refused (held until a new token), unless
    it is past RUN_MAX_AGE_SECONDS: then it is claimed to be given up."""
    held = select(accounts.c.id).where(accounts.c.state == "unauthorized")
    usable = runs.c.account_id.not_in(held)
    if max_age is None:
        return usable
    return or_(usable, runs.c.created_at <= now - max_age)


def _budget_open(now: float):
    """Not a run of an account whose GET budget cannot grant a call now (spent, blocked by a
    429 or paced): left due, in its place in line, instead of claimed only to be put back."""
    closed = select(rate_budget.c.bucket).where(_budget_closed(rate_budget, now))
    return (runs.c.account_id + "/get").not_in(closed)


def _budget_closed(table, now: float):
    """A budget row that grants no call at `now` (see app/upstream/budget_windows.grant)."""
    spent = and_(table.c.window_end > now, table.c.limit >= 0, table.c.used >= table.c.limit)
    return or_(table.c.blocked_until > now, table.c.paced_until > now, spent)


def _fair_candidates(due, due_at, bucket: str, now: float, passed_over=()):
    """Due rows, best first, so that the accounts take turns: each account's oldest free due
    run, the accounts ordered by their runs in flight (leased, due) plus the calls they made in
    the current budget window, then by that run's due time. An account with a thousand runs
    queued is served once in every round, not a thousand times first.

    One pass over the due rows (a hash aggregate, no sort of them), then an index lookup per
    chosen account: the cost does not grow with a sort of the whole backlog. `passed_over`:
    ids another claimer is taking right now (their leases are not visible yet).
    """
    free = lease_free(runs, now)
    if passed_over:
        free = and_(free, runs.c.id.not_in(list(passed_over)))
    per_account = (
        select(
            runs.c.account_id,
            func.sum(case((free, 0), else_=1)).label("in_flight"),
            func.min(case((free, due_at))).label("first_due"),
        )
        .where(due)
        .group_by(runs.c.account_id)
        .subquery()
    )
    window = rate_budget.alias("window")
    spent = func.coalesce(case((window.c.window_end > now, window.c.used), else_=0), 0)
    turns = (
        select(
            per_account.c.account_id,
            per_account.c.first_due,
            (per_account.c.in_flight + spent).label("place"),
        )
        .select_from(
            per_account.outerjoin(
                window, window.c.bucket == per_account.c.account_id + f"/{bucket}"
            )
        )
        .where(per_account.c.first_due.is_not(None))
        .order_by("place", per_account.c.first_due)
        .limit(CLAIM_CANDIDATES)
        .subquery()
    )
    return (
        select(runs.c.id)
        .join(turns, and_(runs.c.account_id == turns.c.account_id, due_at == turns.c.first_due))
        .where(due, free)
        .order_by(turns.c.place, turns.c.first_due, runs.c.id)
        .limit(CLAIM_CANDIDATES)
    )
