"""The polling fallback: what one poll's answer means for a run whose callback is late."""

from __future__ import annotations

import logging

from app.runs.poll_schedule import next_poll_delay
from app.runs.reports import apply_report
from app.runs.settle import settle
from app.runs.states import RunState
from app.store import runs_repo
from app.store.engine import write
from app.upstream import outcomes as oc

log = logging.getLogger(__name__)
NOT_FOUND_LIMIT = 3


def expire_if_too_old(services, run: dict, now: float) -> bool:
    """Past RUN_MAX_AGE_SECONDS a run is given up (run.expired) and never polled again."""
    if now - run["created_at"] < services.settings.run_max_age_seconds:
        return False
    with write(services.engine) as conn:
        reason = "no result within RUN_MAX_AGE_SECONDS"
        settle(conn, run, RunState.EXPIRED, now, reason=reason, lease_until=None, lease_owner=None)
    log.info("run %s expired", run["id"])
    return True


def poll(services, run: dict):
    if run["kind"] == "action_run":
        return services.gateway.get_action_run(run["id"], run["upstream_run_id"])
    return services.gateway.get_stored_action_run(
        run["id"], run["stored_action_id"], run["upstream_run_id"]
    )


def apply_poll_outcome(services, run: dict, outcome, now: float) -> str:
    """Write what the poll's answer means; returns a short verdict for logs and metrics."""
    settings = services.settings
    cap = settings.poll_max_interval_seconds
    counted = not isinstance(outcome, oc.Deferred)
    polls = run["poll_count"] + (1 if counted else 0)
    later = {"poll_count": polls, "updated_at": now, "lease_until": None, "lease_owner": None}
    with write(services.engine) as conn:
        current = runs_repo.get_run(conn, run["id"])
        if isinstance(outcome, oc.Result):
            verdict = apply_report(
                conn,
                current,
                outcome.body,
                outcome.raw,
                "poll",
                now,
                settings.callback_grace_seconds,
            )
            if verdict not in ("settled", "throttled"):
                later["next_poll_at"] = now + next_poll_delay(polls, cap)
        elif isinstance(outcome, oc.NotFound):
            verdict = _not_found(conn, current, now, later, cap)
        elif isinstance(outcome, oc.Refused):
            reason = f"upstream refused the poll with HTTP {outcome.status}"
            settle(conn, current, RunState.FAILED, now, reason=reason, errors=outcome.errors)
            verdict = "refused"
        else:
            wait = getattr(outcome, "retry_after", None) or getattr(outcome, "wait", None)
            later["next_poll_at"] = now + (
                wait if wait is not None else next_poll_delay(polls, cap)
            )
            verdict = outcome.kind
        runs_repo.update_run(conn, run["id"], **later)
    log.info("run %s polled: %s", run["id"], verdict)
    return verdict


def _not_found(conn, run: dict, now: float, later: dict, cap: float) -> str:
    misses = run["not_found_count"] + 1
    later["not_found_count"] = misses
    if misses < NOT_FOUND_LIMIT:
        later["next_poll_at"] = now + next_poll_delay(misses, cap)
        return "not_found"
    reason = f"upstream answered 404 for run {run['upstream_run_id']} {misses} times"
    settle(conn, run, RunState.FAILED, now, reason=reason, errors=[])
    return "failed_not_found"
