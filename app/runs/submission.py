"""Submitting a run upstream (from the trigger or the worker) and applying the answer."""

from __future__ import annotations

import json
import logging

from app.runs.poll_schedule import next_poll_delay
from app.runs.settle import settle
from app.runs.states import RunState
from app.runs.tokens import callback_path
from app.store import runs_repo
from app.store.engine import write
from app.upstream import outcomes as oc

log = logging.getLogger(__name__)
SUBMIT_BASE_SECONDS = 2.0
SUBMIT_MAX_SECONDS = 300.0


def submit(services, run: dict):
    """Call upstream for a queued run; the same idempotency_id every time."""
    settings = services.settings
    data = json.loads(run["request_json"])
    if calls_back(run, settings):
        data["callback_url"] = settings.public_base_url + callback_path(
            settings.relay_secret, run["id"]
        )
    if run["kind"] == "stored_action":
        data["idempotency_id"] = run["idempotency_id"]
        return services.gateway.run_stored_action(run["id"], run["stored_action_id"], data)
    # The v2 contract has no idempotency_id; its callback_url is the newer docs' optional field.
    return services.gateway.create_action_run(run["id"], data)


def calls_back(run: dict, settings) -> bool:
    """Stored actions always get a callback URL; v2 action runs only with V2_CALLBACKS."""
    return run["kind"] == "stored_action" or settings.v2_callbacks


def apply_submit_outcome(services, run: dict, outcome, now: float, owner: str, forward: bool):
    """Write what the submission's answer means; returns the run as stored afterwards."""
    # Read before the write transaction: the grace may query recent runs.
    poll_in = first_poll_delay(run, services) if isinstance(outcome, oc.Accepted) else None
    with write(services.engine) as conn:
        if isinstance(outcome, oc.Accepted):
            moved = runs_repo.move_run(
                conn,
                run["id"],
                RunState.SUBMITTED,
                upstream_run_id=outcome.upstream_id,
                submitted_at=now,
                updated_at=now,
                next_submit_at=None,
                next_poll_at=now + poll_in,
                submit_attempts=run["submit_attempts"] + 1,
                reason=None,
            )
            if not moved:  # a callback got here first: keep its state, note the submission
                runs_repo.update_run(
                    conn, run["id"], upstream_run_id=outcome.upstream_id, submitted_at=now
                )
            log.info("run %s accepted upstream as %s", run["id"], outcome.upstream_id)
        elif isinstance(outcome, oc.Refused):
            settle(
                conn,
                run,
                RunState.REFUSED,
                now,
                reason=f"upstream refused the submission with HTTP {outcome.status}",
                errors=outcome.errors,
                forward=forward,
                refusal_status=outcome.status,
                refusal_json=json.dumps(outcome.errors),
            )
            log.info("run %s refused upstream (HTTP %s)", run["id"], outcome.status)
        else:
            wait, attempts = _retry_wait(outcome, run["submit_attempts"])
            runs_repo.update_run(
                conn,
                run["id"],
                next_submit_at=now + wait,
                submit_attempts=attempts,
                updated_at=now,
                reason=_retry_reason(outcome),
            )
            log.info("run %s submission deferred %.1fs: %s", run["id"], wait, outcome.kind)
        runs_repo.update_run(conn, run["id"], lease_until=None, lease_owner=None)
        return runs_repo.get_run(conn, run["id"])


def first_poll_delay(run: dict, services) -> float:
    """A run that calls back is polled after the grace (shortened while callbacks go missing);
    a v2 run without callbacks soon."""
    settings = services.settings
    if calls_back(run, settings):
        return services.grace.seconds(run["kind"])
    return next_poll_delay(0, settings.poll_max_interval_seconds)


def _retry_wait(outcome, attempts: int) -> tuple[float, int]:
    if isinstance(outcome, oc.Deferred):
        return outcome.wait, attempts  # no call was made: not an attempt
    retry_after = getattr(outcome, "retry_after", None)
    if retry_after is not None:
        return max(retry_after, 0.0), attempts + 1
    return next_submit_delay(attempts), attempts + 1


def _retry_reason(outcome) -> str:
    if isinstance(outcome, oc.Deferred):
        return "waiting for the shared upstream budget"
    if isinstance(outcome, oc.TransportError):
        return f"upstream unreachable: {outcome.detail}"
    return f"upstream answered HTTP {outcome.status}; will retry"


def next_submit_delay(attempts: int) -> float:
    """Back-off between submission attempts: 2 s, 4 s, 8 s ... up to 5 minutes."""
    return min(SUBMIT_MAX_SECONDS, SUBMIT_BASE_SECONDS * 2 ** min(attempts, 20))
