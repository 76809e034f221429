"""Reading runs for the client: one run's detail, and pages of runs behind opaque cursors."""

from __future__ import annotations

from app.errors import InvalidInput, NotFound
from app.runs.timeline import run_detail
from app.schemas.cursors import decode_cursor, encode_cursor
from app.store import runs_repo
from app.store.engine import read


def get_run(services, run_id: str) -> dict:
    """The run with its deliveries and timeline (schemas.relay.Run)."""
    with read(services.engine) as conn:
        run = runs_repo.get_run(conn, run_id)
        if run is None:
            raise NotFound("not_found", "No such run.")
        return run_detail(conn, run)


def runs_page(services, query: dict) -> dict:
    """Newest first, filtered by a RunsQuery; `next_cursor` is None on the last page."""
    after = None
    if "cursor" in query:
        after = decode_cursor(query["cursor"])
        if after is None:
            raise InvalidInput("invalid", "Unknown cursor.")
    created_after = query.get("created_after")
    limit = query["limit"]
    with read(services.engine) as conn:
        rows = runs_repo.list_runs(
            conn,
            status=query.get("status"),
            stored_action_id=query.get("stored_action_id"),
            account_id=query.get("account"),
            created_after=created_after.timestamp() if created_after else None,
            after=after,
            limit=limit + 1,  # one more than asked: whether there is a next page
        )
    page = rows[:limit]
    return {"data": page, "next_cursor": encode_cursor(page[-1]) if len(rows) > limit else None}
