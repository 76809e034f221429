"""The worker's fourth kind of work: one page of one due Zap Runs watch."""

from __future__ import annotations

import time

from app.store.zap_repo import claim_due_watch
from app.zap_runs.scan import watch_step


def watch_one(services, owner: str) -> bool:
    """Scan one page for a watch whose time has come; True if there was one."""
    watch = claim_due_watch(
        services.engine, owner, time.time(), services.settings.worker_lease_seconds
    )
    if watch is None:
        return False
    watch_step(services, watch, owner, time.time())
    return True
