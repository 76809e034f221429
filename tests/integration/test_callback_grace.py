"""The callback grace shortens while recent callbacks go missing, and recovers when they come."""

import itertools
import time

from app.runs.callback_grace import MIN_HISTORY, RECENT_RUNS, CallbackGrace
from app.store.engine import write
from app.store.tables import runs
from tests.integration.helpers import run_row, trigger
from tests.support.run_rows import new_run_row

_ORDER = itertools.count()


def settled_history(services, sources: list[str]) -> None:
    """Runs settled earlier, each batch after the one before, each by a callback or a poll."""
    now = time.time() - 86400 + next(_ORDER) * 1000
    rows = [
        new_run_row(now=now + n, state="succeeded", source=source, settled_at=now + n)
        for n, source in enumerate(sources)
    ]
    with write(services.engine) as conn:
        conn.execute(runs.insert(), rows)


def test_grace_follows_the_recent_miss_rate(services):
    grace = CallbackGrace(services.engine, 60.0)
    assert grace.seconds("stored_action", now=0) == 60.0  # no history: the configured grace
    settled_history(services, ["poll"] * (MIN_HISTORY - 1))
    assert CallbackGrace(services.engine, 60.0).seconds("stored_action") == 60.0  # too few
    settled_history(services, ["callback"] * 25 + ["poll"] * 16)  # last 50: 25 polls
    assert CallbackGrace(services.engine, 60.0).seconds("stored_action") == 30.0  # 50% missed
    settled_history(services, ["poll"] * RECENT_RUNS)
    # Every recent callback missed: poll after the first interval, not after a minute.
    assert CallbackGrace(services.engine, 60.0).seconds("stored_action") == 5.0
    assert CallbackGrace(services.engine, 2.0).seconds("stored_action") == 2.0  # never longer
    settled_history(services, ["callback"] * RECENT_RUNS)
    assert CallbackGrace(services.engine, 60.0).seconds("stored_action") == 60.0
    assert CallbackGrace(services.engine, 60.0).miss_rate("action_run") is None  # per kind


def test_a_new_run_is_polled_early_when_callbacks_have_been_missing(client, services, sandbox):
    sandbox.knobs(callback_drop=1.0, run_seconds=60)
    services.grace.configured = 60.0  # as in production; the test settings use 0
    settled_history(services, ["poll"] * RECENT_RUNS)
    before = time.time()
    row = run_row(services, trigger(client))
    assert row["state"] == "submitted"
    assert before + 4 <= row["next_poll_at"] <= time.time() + 5.5
