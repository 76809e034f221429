"""Recovery by time range: a target's failed deliveries in a window queued again."""

from __future__ import annotations

import time

from app.errors import NotFound
from app.store import deliveries_repo, webhooks_repo
from app.store.engine import write

# One call queues at most this many, oldest first; `more` says to call again.
RECOVER_LIMIT = 1000


def recover(services, webhook_id: str, since: float, until: float | None) -> dict:
    """Failed deliveries of this target created in [since, until) are due again under their
    own webhook-ids. Pending ones are left alone: a repeat while they wait adds nothing."""
    now = time.time()
    with write(services.engine) as conn:
        if webhooks_repo.get_webhook(conn, webhook_id) is None:
            raise NotFound("not_found", "No such webhook.")
        queued, more = deliveries_repo.recover_failed(
            conn, webhook_id, since, until if until is not None else now, now, RECOVER_LIMIT
        )
    return {"queued": queued, "more": more}
