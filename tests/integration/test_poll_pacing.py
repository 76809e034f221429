"""Polling that spends the budget well, through the worker's own tasks against the sandbox,
on SQLite and PostgreSQL: the first poll goes where the stored action's runs have ended, a
backlog larger than the budget is paced instead of spent at once, and /metrics shows it."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import insert

from app.store import due_work_repo
from app.store.engine import read, write
from app.store.tables import runs
from app.upstream.account_limits import BucketLimit
from app.worker.tasks import poll_one
from tests.integration.helpers import due_polls, run_row, trigger
from tests.support.run_rows import new_run_row

OWNER = "pacing-worker"
HISTORY = [30.0 + i for i in range(20)]  # this stored action's runs took 30-49 s


def settled_history(services, durations, source="callback", **columns) -> None:
    now = time.time() - 3600
    rows = [
        new_run_row(
            now=now,
            **columns,
            state="succeeded",
            source=source,
            upstream_run_id=str(uuid.uuid4()),
            submitted_at=now,
            settled_at=now + seconds,
            next_submit_at=None,
        )
        for seconds in durations
    ]
    with write(services.engine) as conn:
        conn.execute(insert(runs), rows)


def test_the_first_poll_goes_where_the_stored_actions_runs_have_ended(make_app, sandbox):
    sandbox.knobs(callback_drop=1.0, run_seconds=3600.0)
    client, services = make_app({"POLL_MAX_INTERVAL_SECONDS": "300"})
    settled_history(services, HISTORY)

    row = run_row(services, trigger(client))

    # Within the 30-49 s in which its action's runs end: not at the fixed 5 s (nor at the
    # grace, 0 here), and not past them all.
    assert 30 < row["next_poll_at"] - row["submitted_at"] < 49


def test_without_history_the_fixed_back_off_stands(make_app, sandbox):
    sandbox.knobs(callback_drop=1.0, run_seconds=3600.0)
    client, services = make_app({"POLL_MAX_INTERVAL_SECONDS": "300", "CALLBACKS": "off"})

    row = run_row(services, trigger(client))

    assert row["next_poll_at"] - row["submitted_at"] == 5.0


def test_a_backlog_beyond_the_budget_is_paced_not_spent_at_once(make_app, sandbox):
    sandbox.knobs(window_seconds=60, get_limit=4)
    client, services = make_app(
        {
            "ZAPIER_GET_LIMIT": "4",
            "ZAPIER_RATE_WINDOW_SECONDS": "60",
            "POLL_MAX_INTERVAL_SECONDS": "300",
        }
    )
    due_polls(services, 10)

    first, second = poll_one(services, OWNER), poll_one(services, OWNER)

    # Ten due, four allowed: one now, the next a quarter of the window's rest later (the
    # window's last call still inside it), not four at once and then nothing for a minute.
    assert (first, second) == (True, False)
    with read(services.engine) as conn:
        opens = due_work_repo.next_upstream_due_at(conn)
    assert 10 < opens - time.time() <= 60 / 4
    assert sandbox.stats()["rate"]["get"]["max_per_window"] == 1
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'relay_polls_due{account="default"} 9.0' in metrics  # the polled one waits its back-off
    assert 'relay_poll_budget_shortfall{account="default"} 6.0' in metrics  # 10 open, 4 a window


def test_an_account_with_a_tighter_get_budget_polls_its_runs_further_apart(make_app, sandbox):
    """Each account spends its own GET budget: the same history and the same open runs, on an
    account allowed 6 GETs a window instead of 600, are polled at a higher price."""
    _, services = make_app({"POLL_MAX_INTERVAL_SECONDS": "300"})
    services.budget.acquire("get", account="tight", limit=BucketLimit(6))
    open_at = time.time() - 35
    for account in ("default", "tight"):
        settled_history(services, HISTORY, account_id=account)
        rows = [
            new_run_row(state="waiting", submitted_at=open_at, account_id=account) for _ in range(5)
        ]
        with write(services.engine) as conn:
            conn.execute(insert(runs), rows)
    roomy, tight = (
        services.plans.plan({**run_row_of(services, account), "poll_count": 1})
        for account in ("default", "tight")
    )

    assert tight.price > roomy.price
    assert tight.next_delay(35.0, 1) > roomy.next_delay(35.0, 1)


def run_row_of(services, account: str) -> dict:
    with read(services.engine) as conn:
        row = conn.execute(
            runs.select().where(runs.c.account_id == account, runs.c.state == "waiting")
        ).first()
    return dict(row._mapping)
