"""Submitting a run upstream (from the trigger or the worker) and applying the answer."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from app.accounts.selection import DEFAULT_ACCOUNT
from app.runs.settle import apply_settlement
from app.runs.states import RunKind
from app.runs.submit_decisions import SubmitDecision, decide_submission
from app.runs.tokens import callback_path
from app.store import runs_repo
from app.store.engine import write
from app.upstream import outcomes as oc
from app.upstream.outcomes import UpstreamOutcome

if TYPE_CHECKING:
    from app.bootstrap import Services

log = logging.getLogger(__name__)


def submit(services: Services, run: dict, deadline: float | None = None) -> UpstreamOutcome:
    """Call upstream for a queued run; the same idempotency_id every time. With a `deadline`
    (a trigger waiting for the answer), a slower upstream leaves the run to the worker."""
    settings = services.settings
    data = json.loads(run["request_json"])
    if calls_back(run, settings):
        data["callback_url"] = settings.public_base_url + callback_path(
            settings.relay_secret, run["id"]
        )
    account = account_of(run)
    if run["kind"] == RunKind.STORED_ACTION:
        data["idempotency_id"] = run["idempotency_id"]
        return services.gateway.run_stored_action(
            run["id"], run["stored_action_id"], data, deadline, account=account
        )
    # The v2 contract has no idempotency_id; its callback_url is the newer docs' optional field.
    return services.gateway.create_action_run(run["id"], data, deadline, account=account)


def account_of(run: dict) -> str:
    """The Zapier account whose token and budget the run's upstream calls use."""
    return run.get("account_id") or DEFAULT_ACCOUNT


def calls_back(run: dict, settings) -> bool:
    """With callbacks on (CALLBACKS), stored actions get a callback URL; v2 action runs only
    with V2_CALLBACKS too. With them off the relay polls only."""
    if not settings.callbacks_on:
        return False
    return run["kind"] == RunKind.STORED_ACTION or settings.v2_callbacks


def apply_submit_outcome(
    services: Services, run: dict, outcome: UpstreamOutcome, now: float, owner: str, forward: bool
) -> dict:
    """Write what the submission's answer means; returns the run as stored afterwards."""
    # Read before the write transaction: the grace may query recent runs.
    poll_in = first_poll_delay(run, services) if isinstance(outcome, oc.Accepted) else None
    decision = decide_submission(run, outcome, now, poll_in=poll_in)
    with write(services.engine) as conn:
        if decision.settlement is not None:
            apply_settlement(conn, run, decision.settlement, now, forward=forward)
        elif decision.move_to is not None:
            if not runs_repo.move_run(conn, run["id"], decision.move_to, **decision.values):
                runs_repo.update_run(conn, run["id"], **decision.if_moved_on)
        else:
            runs_repo.update_run(conn, run["id"], **decision.values)
        _log_outcome(outcome, decision)
        runs_repo.update_run(conn, run["id"], lease_until=None, lease_owner=None)
        return runs_repo.get_run(conn, run["id"])


def _log_outcome(outcome: UpstreamOutcome, decision: SubmitDecision) -> None:
    match outcome:
        case oc.Accepted(upstream_id=upstream_id):
            log.info("accepted upstream as %s", upstream_id)
        case oc.Refused(status=status):
            log.warning("refused upstream (HTTP %s): final", status)
        case oc.Unauthorized(reason=reason):
            log.warning("held: %s", reason)
        case _:
            log.info("submission deferred %.1fs: %s", decision.retry_in, outcome.kind)


def first_poll_delay(run: dict, services: Services) -> float:
    """Where its action's runs have become likely to be done (app/runs/poll_plan.py); a run
    that calls back after the grace (shortened while callbacks go missing), and not before
    its action's runs are likely done once that is learned."""
    plan = services.plans.plan(run)
    if not calls_back(run, services.settings):
        return plan.first_delay()
    grace = services.grace.seconds(run["kind"])
    return max(grace, plan.first_delay()) if plan.learned else grace
