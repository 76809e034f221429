"""The polling fallback: poll a run whose callback is late, and write what the answer means."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from app.runs.poll_decisions import SHOWN_ON_THE_CALL, PollVerdict, decide_expiry, decide_poll
from app.runs.report_decisions import ReportVerdict
from app.runs.reports import apply_report_decision
from app.runs.settle import apply_settlement
from app.runs.states import RunKind
from app.runs.submission import account_of
from app.store import due_work_repo, runs_repo, upstream_calls_repo
from app.store.engine import read, write
from app.upstream.outcomes import UpstreamOutcome

if TYPE_CHECKING:
    from app.bootstrap import Services

log = logging.getLogger(__name__)
POLL_OPERATIONS = ("get_stored_action_run", "get_action_run")


def expire_if_too_old(services: Services, run: dict, now: float) -> bool:
    """Past RUN_MAX_AGE_SECONDS a queued run that upstream never accepted is given up
    (run.expired) unsubmitted. A run upstream accepted expires only after a last poll."""
    expiry = decide_expiry(run, now, services.settings.run_max_age_seconds)
    if expiry is None:
        return False
    with write(services.engine) as conn:
        apply_settlement(conn, run, expiry, now)
    log.warning("run expired: never accepted upstream within RUN_MAX_AGE_SECONDS")
    return True


def poll(services: Services, run: dict) -> UpstreamOutcome:
    """GET the run from upstream; the account's due polls pace its budget (budget_windows)."""
    account = account_of(run)
    with read(services.engine) as conn:
        backlog = due_work_repo.due_poll_count(conn, account, time.time())
    gateway = services.gateway
    if run["kind"] == RunKind.ACTION_RUN:
        return gateway.get_action_run(
            run["id"], run["upstream_run_id"], account=account, backlog=backlog
        )
    return gateway.get_stored_action_run(
        run["id"], run["stored_action_id"], run["upstream_run_id"], account=account, backlog=backlog
    )


def apply_poll_outcome(
    services: Services,
    run: dict,
    outcome: UpstreamOutcome,
    now: float,
    polled_at: float | None = None,
) -> ReportVerdict | PollVerdict:
    """Write what the poll's answer means in one transaction, then expire the run if it is too
    old and still open; returns the verdict for logs. `polled_at`: when the poll was sent."""
    settings = services.settings
    plan = services.plans.plan(run, now)  # read before the write transaction
    with write(services.engine) as conn:
        current = runs_repo.get_run(conn, run["id"])
        decision = decide_poll(
            current,
            outcome,
            now,
            poll_count=run["poll_count"],
            grace=settings.callback_grace_seconds,
            cap=settings.poll_max_interval_seconds,
            max_age=settings.run_max_age_seconds,
            plan=plan,
        )
        verdict, report_verdict = decision.verdict, None
        if decision.report is not None:
            verdict = report_verdict = apply_report_decision(conn, current, decision.report, now)
            if report_verdict in SHOWN_ON_THE_CALL:
                upstream_calls_repo.mark_last_call(
                    conn, run["id"], POLL_OPERATIONS, report_verdict.value, since=polled_at
                )
        elif decision.settlement is not None:
            apply_settlement(conn, current, decision.settlement, now)
        runs_repo.update_run(conn, run["id"], **decision.values_after(report_verdict))
        # Guarded like every settlement: a run this poll settled is not expired.
        expired = decision.expiry is not None and apply_settlement(
            conn, current, decision.expiry, now
        )
    if expired:
        log.warning(
            "run expired after its last poll (%s): no result within RUN_MAX_AGE_SECONDS", verdict
        )
    else:
        log.info("polled: %s", verdict)
    return verdict
