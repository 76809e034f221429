"""Each action's poll plan, learned from its latest runs and kept a few seconds per process."""

from __future__ import annotations

import math
import threading
import time

from app.accounts.selection import DEFAULT_ACCOUNT
from app.runs.duration_estimate import estimate, observation
from app.runs.poll_plan import PollPlan, budget_price, plan_for
from app.runs.states import RunKind
from app.store import runs_repo
from app.store.engine import read

OPEN_POLLED = ("submitted", "waiting")
LATEST_RUNS = 500  # the runs of an action its estimate rests on, open ones included
CACHE_SECONDS = 10.0  # one query per action and process per this long, not one per poll


class LearnedPlans:
    """PollPlan per account and stored action (v1) or action (v2), from the store. `budget`
    (a RateBudget; None: unlimited) gives the account's GET rate the price is set by: its
    limit in force, lowered by upstream's X-RateLimit-Limit, over the window's length."""

    def __init__(self, engine, cap: float, budget=None):
        self.engine = engine
        self.cap = cap
        self.budget = budget
        self._lock = threading.Lock()
        self._plans: dict[tuple[str, str, str], tuple[float, PollPlan]] = {}

    def plan(self, run: dict, now: float | None = None) -> PollPlan:
        now = time.time() if now is None else now
        key = action_key(run)
        if key is None:
            return plan_for(None, self.cap)
        with self._lock:
            cached = self._plans.get(key)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        with read(self.engine) as conn:
            rows = runs_repo.latest_runs_of_action(conn, *key, LATEST_RUNS)
        seen = [o for o in (observation(row, now) for row in rows) if o is not None]
        durations = estimate(seen)
        # Every open run polls, polled yet or not: the demand the price must fit the budget to.
        open_ages = [now - row["submitted_at"] for row in rows if row["state"] in OPEN_POLLED]
        price = budget_price(durations, open_ages, self._gets_per_second(key[0]))
        plan = plan_for(durations, self.cap, price)
        with self._lock:
            self._plans[key] = (now, plan)
        return plan

    def _gets_per_second(self, account: str) -> float:
        return math.inf if self.budget is None else self.budget.rate("get", account)


def action_key(run: dict) -> tuple[str, str, str] | None:
    """(account, kind, stored action id or v2 action): the runs whose durations are alike."""
    stored = run["kind"] == RunKind.STORED_ACTION
    key = run.get("stored_action_id") if stored else run.get("action")
    account = run.get("account_id") or DEFAULT_ACCOUNT
    return (account, str(run["kind"]), key) if key else None
