"""The worker's units of work: claim a due item with a lease, handle it, release it."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from app.delivery.engine import deliver_due_now
from app.observability.run_context import bind_run_id, run_log_scope
from app.runs.polling import apply_poll_outcome, expire_if_too_old, poll
from app.runs.submission import apply_submit_outcome, submit
from app.store import run_claims
from app.store.zap_repo import claim_due_watch
from app.zap_runs.scan import watch_step

if TYPE_CHECKING:
    from app.bootstrap import Services

log = logging.getLogger(__name__)


@run_log_scope
def submit_one(services: Services, owner: str) -> bool:
    """Submit one queued run whose time has come; True if there was one."""
    settings = services.settings
    run = run_claims.claim_due_submission(
        services.engine,
        owner,
        time.time(),
        settings.worker_lease_seconds,
        max_age=settings.run_max_age_seconds,
    )
    if run is None:
        return False
    bind_run_id(run["id"])
    if expire_if_too_old(services, run, time.time()):
        return True
    outcome = submit(services, run)
    apply_submit_outcome(services, run, outcome, time.time(), owner, forward=True)
    return True


@run_log_scope
def poll_one(services: Services, owner: str) -> bool:
    """Poll one run whose callback is late; True if there was one. A run past its max age is
    polled once more first: upstream may hold its result (apply_poll_outcome expires it)."""
    settings = services.settings
    run = run_claims.claim_due_poll(
        services.engine,
        owner,
        time.time(),
        settings.worker_lease_seconds,
        max_age=settings.run_max_age_seconds,
    )
    if run is None:
        return False
    bind_run_id(run["id"])
    polled_at = time.time()
    outcome = poll(services, run)
    apply_poll_outcome(services, run, outcome, time.time(), polled_at)
    return True


def deliver_one(services: Services, owner: str) -> bool:
    """Attempt one due forward, blocking; True if there was one (the engine does it in bulk)."""
    return deliver_due_now(services, owner)


def watch_one(services: Services, owner: str) -> bool:
    """Scan one page for a Zap Runs watch whose time has come; True if there was one."""
    watch = claim_due_watch(
        services.engine, owner, time.time(), services.settings.worker_lease_seconds
    )
    if watch is None:
        return False
    watch_step(services, watch, owner, time.time())
    return True
