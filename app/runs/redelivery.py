"""Redelivery: a final run's forwards queued again, when the client asks."""

from __future__ import annotations

import time

from app.errors import Conflict, NotFound
from app.runs.states import RunState
from app.runs.timeline import run_detail
from app.store import deliveries_repo, runs_repo
from app.store.engine import write


def redeliver(services, run_id: str) -> dict:
    """Requeue every delivery of a final run, in one transaction; returns the run's detail."""
    with write(services.engine) as conn:
        run = runs_repo.get_run(conn, run_id)
        if run is None:
            raise NotFound("not_found", "No such run.")
        # Only a final run has the result a forward carries.
        if not RunState(run["state"]).is_final:
            raise Conflict("not_final", "The run has no final result to forward yet.")
        if deliveries_repo.requeue_run_deliveries(conn, run_id, time.time()) == 0:
            raise Conflict("no_deliveries", "This run had no forward targets.")
        return run_detail(conn, run)
