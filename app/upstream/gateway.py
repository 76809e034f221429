"""Every upstream call goes through here: the account's token and budget first, then the call,
then its bookkeeping. A call names its account: each has its own token, windows and state."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from app.accounts.tokens import AccountTokens, AccountUnavailable, Credentials
from app.observability.event_metrics import observe_upstream
from app.store import upstream_calls_repo
from app.store.engine import DatabaseError, Engine, write
from app.upstream.account_limits import BucketLimit, resolve_limits
from app.upstream.budget import Admission, RateBudget
from app.upstream.client import UpstreamClient
from app.upstream.outcomes import Deferred, Throttled, Unauthorized, Unavailable, UpstreamOutcome
from app.upstream.refusals import hold_refused

log = logging.getLogger(__name__)

RUN_BUCKET = "run"
GET_BUCKET = "get"
# An account whose token cannot be read (a missing key) is looked at again this often.
UNUSABLE_RETRY_SECONDS = 60.0


class UpstreamGateway:
    """Never sleeps: a refused budget comes back as Deferred(wait) and the caller reschedules;
    an account upstream refused comes back as Unauthorized and its work waits for a new token."""

    def __init__(
        self,
        client: UpstreamClient,
        budget: RateBudget,
        engine: Engine,
        tokens: AccountTokens,
        on_budget_spent: Callable[[str, Admission], None] | None = None,
    ):
        self.client = client
        self.budget = budget
        self.engine = engine
        self.tokens = tokens
        # Told once per account, bucket and window when work had to wait for the budget.
        self.on_budget_spent = on_budget_spent
        self._told: set[tuple[str, str, float]] = set()

    def run_stored_action(
        self,
        run_id: str,
        stored_action_id: str,
        data: dict,
        deadline: float | None = None,
        *,
        account: str,
    ) -> UpstreamOutcome:
        return self._call(
            run_id,
            account,
            "run_stored_action",
            RUN_BUCKET,
            lambda token: self.client.run_stored_action(
                stored_action_id, data, deadline, token=token
            ),
        )

    def get_stored_action_run(
        self,
        run_id: str,
        stored_action_id: str,
        upstream_run_id: str,
        *,
        account: str,
        backlog: int | None = None,
    ) -> UpstreamOutcome:
        return self._call(
            run_id,
            account,
            "get_stored_action_run",
            GET_BUCKET,
            lambda token: self.client.get_stored_action_run(
                stored_action_id, upstream_run_id, token=token
            ),
            backlog,
        )

    def create_action_run(
        self, run_id: str, data: dict, deadline: float | None = None, *, account: str
    ) -> UpstreamOutcome:
        return self._call(
            run_id,
            account,
            "create_action_run",
            RUN_BUCKET,
            lambda token: self.client.create_action_run(data, deadline, token=token),
        )

    def get_action_run(
        self, run_id: str, upstream_run_id: str, *, account: str, backlog: int | None = None
    ) -> UpstreamOutcome:
        return self._call(
            run_id,
            account,
            "get_action_run",
            GET_BUCKET,
            lambda token: self.client.get_action_run(upstream_run_id, token=token),
            backlog,
        )

    def list_zap_runs(self, watch_id: str, params: dict, *, account: str) -> UpstreamOutcome:
        return self._call(
            watch_id,
            account,
            "list_zap_runs",
            GET_BUCKET,
            lambda token: self.client.list_zap_runs(params, token=token),
        )

    def limits_of(self, credentials: Credentials) -> dict[str, BucketLimit]:
        """The account's limit per bucket: override, else its JWT's claims, else defaults."""
        defaults = tuple(sorted(self.budget.limits.items()))
        return resolve_limits(credentials.token, credentials.overrides_json, defaults)

    def _call(
        self,
        run_id: str,
        account: str,
        operation: str,
        bucket: str,
        send: Callable[[str], UpstreamOutcome],
        backlog: int | None = None,
    ) -> UpstreamOutcome:
        """`backlog`: calls waiting for this bucket; the budget paces a backlog it cannot cover."""
        try:
            credentials = self.tokens.credentials(account)
        except AccountUnavailable as err:
            reason = f"account {account} cannot be used: {err}"
            return Unauthorized(account, reason, retry_in=UNUSABLE_RETRY_SECONDS)
        if not credentials.active:
            # Held until the token is replaced: no call, nothing spent.
            detail = credentials.unauthorized_detail or "upstream refused its token"
            return Unauthorized(account, f"account {account} unauthorized: {detail}")
        limit = self.limits_of(credentials)[bucket]
        admission = self.budget.acquire(bucket, account=account, limit=limit, backlog=backlog)
        if not admission.granted or admission.short:
            # Work waits for the budget: refused now, or more calls due than the window has.
            self._tell_budget_spent(bucket, admission)
        if not admission.granted:
            return Deferred(admission.wait)
        started_at = time.time()
        outcome = hold_refused(self.tokens, credentials, send(credentials.token))
        observe_upstream(operation, outcome)
        try:
            self._account(run_id, account, operation, bucket, limit, outcome, started_at)
            self.tokens.touch(credentials)
        except DatabaseError:
            # The call happened and its answer matters more than its bookkeeping: a run POST
            # whose Accepted were lost here would be submitted again.
            log.exception("could not record upstream call %s for run %s", operation, run_id)
        return outcome

    def _tell_budget_spent(self, bucket: str, admission: Admission) -> None:
        window = (admission.account, bucket, admission.window_end)
        if self.on_budget_spent is None or window in self._told:
            return
        self._told = {w for w in self._told if w[2] >= admission.window_start} | {window}
        try:
            self.on_budget_spent(bucket, admission)
        except DatabaseError:
            log.exception("could not announce the spent %s budget", bucket)

    def _account(
        self,
        run_id: str,
        account: str,
        operation: str,
        bucket: str,
        limit: BucketLimit,
        outcome: UpstreamOutcome,
        started_at: float,
    ) -> None:
        self.budget.observe(bucket, outcome.rate, account=account, limit=limit)
        match outcome:
            case Throttled(retry_after=after) | Unavailable(retry_after=after) if after is not None:
                # This account's 429 or 503: its own windows wait, no other account's.
                self.budget.block(bucket, time.time() + after, account=account)
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
