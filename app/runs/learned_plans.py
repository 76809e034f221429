"""Each action's poll plan, learned from its latest runs and kept a few seconds per process."""

from __future__ import annotations

import math
import threading
import time

from app.runs.duration_estimate import estimate, observation
from app.runs.poll_plan import PollPlan, budget_price, plan_for
from app.runs.states import RunKind
from app.store import runs_repo
from app.store.engine import read

OPEN_POLLED = ("submitted", "waiting")
LATEST_RUNS = 500  # the runs of an action its estimate rests on, open ones included
CACHE_SECONDS = 10.0  # one query per action and process per this long, not one per poll


class LearnedPlans:
    """PollPlan per stored action (v1) or action (v2), from the store. `gets_per_second`: the
    default GET budget (ZAPIER_GET_LIMIT / ZAPIER_RATE_WINDOW_SECONDS) the price is set by."""

    def __init__(self, engine, cap: float, gets_per_second: float = math.inf):
        self.engine = engine
        self.cap = cap
        self.gets_per_second = gets_per_second
        self._lock = threading.Lock()
        self._plans: dict[tuple[str, str], tuple[float, PollPlan]] = {}

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
        price = budget_price(durations, open_ages, self.gets_per_second)
        plan = plan_for(durations, self.cap, price)
        with self._lock:
            self._plans[key] = (now, plan)
        return plan


def action_key(run: dict) -> tuple[str, str] | None:
    """(kind, stored action id or v2 action): the runs whose durations are alike."""
    stored = run["kind"] == RunKind.STORED_ACTION
    key = run.get("stored_action_id") if stored else run.get("action")
    return (str(run["kind"]), key) if key else None
