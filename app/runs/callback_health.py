"""Noticing that callbacks stopped arriving: most runs settled by polling, not by callback.

The usual cause is a PUBLIC_BASE_URL Zapier cannot reach (behind NAT, on a laptop, a typo):
every run then waits out its grace and is polled. The operator hears it as `callbacks.missing`
once an hour while it lasts.
"""

from __future__ import annotations

import time

from app.delivery import ops_events
from app.runs.states import RunKind
from app.store.engine import write

MISSING_SHARE = 0.5  # of the recent settled runs that could be called back
ANNOUNCE_EVERY_SECONDS = 3600.0


def check_callbacks_missing(services, now: float | None = None) -> bool:
    """Emit callbacks.missing when the recent poll share is past MISSING_SHARE; True if so."""
    if not services.settings.callbacks_on:
        return False  # polling only (CALLBACKS): no callback is expected, so none is missing
    now = time.time() if now is None else now
    missed = services.grace.miss_rate(RunKind.STORED_ACTION)
    if missed is None or missed < MISSING_SHARE:
        return False
    data = {
        "share_settled_by_poll": round(missed, 3),
        "threshold": MISSING_SHARE,
        "public_base_url": services.settings.public_base_url,
        "hint": "Zapier's callbacks do not reach the relay: is PUBLIC_BASE_URL a public "
        "https URL that routes to it?",
    }
    hour = int(now // ANNOUNCE_EVERY_SECONDS)
    with write(services.engine) as conn:
        ops_events.emit(conn, ops_events.CALLBACKS_MISSING, data, f"hour:{hour}", now)
    return True
