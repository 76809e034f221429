"""The one factory of `runs` rows that tests and bench insert directly, past the trigger."""

from __future__ import annotations

import time
import uuid

from tests.support.stack import STORED_ACTION


def new_run_row(run_id: str = "", now: float | None = None, **columns) -> dict:
    """A queued stored-action run as the first migration's columns hold it; `columns` on top.

    Only baseline columns by default, so the same row inserts at any schema revision.
    """
    at = time.time() if now is None else now
    return {
        "id": run_id or str(uuid.uuid4()),
        "kind": "stored_action",
        "stored_action_id": STORED_ACTION,
        "request_json": "{}",
        "idempotency_id": str(uuid.uuid4()),
        "metadata_json": "{}",
        "state": "queued",
        "created_at": at,
        "updated_at": at,
        "submit_attempts": 0,
        "poll_count": 0,
        "not_found_count": 0,
        **columns,
    }
