"""Every upstream call goes through here: budget first, then the call, then its bookkeeping."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from app.observability.event_metrics import observe_upstream
from app.store import upstream_calls_repo
from app.store.engine import DatabaseError, Engine, write
from app.upstream.budget import Admission, RateBudget
from app.upstream.client import UpstreamClient
from app.upstream.outcomes import (
    Deferred,
    Throttled,
    Unavailable,
    UpstreamOutcome,
)

log = logging.getLogger(__name__)

RUN_BUCKET = "run"
GET_BUCKET = "get"


class UpstreamGateway:
    """Never sleeps: a refused budget comes back as Deferred(wait) and the caller reschedules."""

    def __init__(
        self,
        client: UpstreamClient,
        budget: RateBudget,
        engine: Engine,
        on_budget_spent: Callable[[str, Admission], None] | None = None,
    ):
        self.client = client
        self.budget = budget
        self.engine = engine
        # Told once per bucket and window when work had to wait for the budget.
        self.on_budget_spent = on_budget_spent
        self._told: set[tuple[str, float]] = set()

    def run_stored_action(
        self, run_id: str, stored_action_id: str, data: dict, deadline: float | None = None
    ) -> UpstreamOutcome:
        return self._call(
            run_id,
            "run_stored_action",
            RUN_BUCKET,
            lambda: self.client.run_stored_action(stored_action_id, data, deadline),
        )

    def get_stored_action_run(
        self, run_id: str, stored_action_id: str, upstream_run_id: str
    ) -> UpstreamOutcome:
        return self._call(
            run_id,
            "get_stored_action_run",
            GET_BUCKET,
            lambda: self.client.get_stored_action_run(stored_action_id, upstream_run_id),
        )

    def create_action_run(
        self, run_id: str, data: dict, deadline: float | None = None
    ) -> UpstreamOutcome:
        return self._call(
            run_id,
            "create_action_run",
            RUN_BUCKET,
            lambda: self.client.create_action_run(data, deadline),
        )

    def get_action_run(self, run_id: str, upstream_run_id: str) -> UpstreamOutcome:
        return self._call(
            run_id,
            "get_action_run",
            GET_BUCKET,
            lambda: self.client.get_action_run(upstream_run_id),
        )

    def list_zap_runs(self, watch_id: str, params: dict) -> UpstreamOutcome:
        return self._call(
            watch_id, "list_zap_runs", GET_BUCKET, lambda: self.client.list_zap_runs(params)
        )

    def _call(
        self, run_id: str, operation: str, bucket: str, send: Callable[[], UpstreamOutcome]
    ) -> UpstreamOutcome:
        admission = self.budget.acquire(bucket)
        if not admission.granted:
            self._tell_budget_spent(bucket, admission)
            return Deferred(admission.wait)
        started_at = time.time()
        outcome = send()
        observe_upstream(operation, outcome)
        try:
            self._account(run_id, operation, bucket, outcome, started_at)
        except DatabaseError:
            # The call happened and its answer matters more than its bookkeeping: a run POST
            # whose Accepted were lost here would be submitted again.
            log.exception("could not record upstream call %s for run %s", operation, run_id)
        return outcome

    def _tell_budget_spent(self, bucket: str, admission: Admission) -> None:
        window = (bucket, admission.window_end)
        if self.on_budget_spent is None or window in self._told:
            return
        self._told = {w for w in self._told if w[1] >= admission.window_start} | {window}
        try:
            self.on_budget_spent(bucket, admission)
        except DatabaseError:
            log.exception("could not announce the spent %s budget", bucket)

    def _account(
        self,
        run_id: str,
        operation: str,
        bucket: str,
        outcome: UpstreamOutcome,
        started_at: float,
    ) -> None:
        self.budget.observe(bucket, outcome.rate)
        match outcome:
            case Throttled(retry_after=after) | Unavailable(retry_after=after) if after is not None:
                self.budget.block(bucket, time.time() + after)
        with write(self.engine) as conn:
            upstream_calls_repo.record_call(
                conn,
                {
                    "run_id": run_id,
                    "operation": operation,
                    "outcome": outcome.kind,
                    "status": outcome.status,
                    "at": started_at,
                    "latency_ms": outcome.latency_ms,
                },
            )
