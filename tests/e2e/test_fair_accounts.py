"""Fair scheduling across accounts, on real processes and PostgreSQL: one hot account with
1,000 runs queued and 20 cold accounts with one run each. Upstream is slow (every call takes
0.2-0.3 s, past the trigger's wait), so every trigger leaves its run queued for the workers;
they start with all of them queued, the cold ones last. A cold run's submission and first poll
go in the first rounds of the accounts' turns, not behind the hot backlog (where a first-come
queue would put them)."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from app.runs.polling import POLL_OPERATIONS
from app.store.engine import read
from app.store.tables import runs, upstream_calls
from tests.e2e.conftest import E2E_SETTINGS
from tests.support.accounts import TEST_KEY, claims_token
from tests.support.latency import JitterProxy
from tests.support.processes import wait_for
from tests.support.stack import API_KEY, Relay

pytestmark = [pytest.mark.e2e, pytest.mark.load]
HOT_RUNS, COLD_ACCOUNTS = 1000, 20
WORKERS, THREADS = 2, 4
FIRST_POLL = 5.0  # the fixed back-off's first delay: no run of a cold account has ended yet
# Hot calls that may go between a cold run's turn coming and its call: the claims in flight
# when it came (every thread's), plus one round of the accounts' turns for each claimer.
ROOM = WORKERS * THREADS * 2 + COLD_ACCOUNTS
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def relay(tmp_path, postgres_url, sandbox, receiver):
    proxy = JitterProxy(sandbox.port, max_delay=0.3, min_delay=0.2)
    env = {
        "WORKER_THREADS": str(THREADS),
        "RELAY_ENCRYPTION_KEYS": TEST_KEY,
        "CALLBACKS": "off",  # every run is polled: its first poll is measured too
        "POLL_MAX_INTERVAL_SECONDS": "60",
        "TRIGGER_WAIT_SECONDS": "0.1",  # shorter than any upstream answer: the run is queued
    }
    upstream = f"http://127.0.0.1:{proxy.port}/sandbox"
    relay = Relay.live(tmp_path, postgres_url, upstream, receiver.url, **{**E2E_SETTINGS, **env})
    try:
        yield relay.start(workers=0)  # the workers start once every run is queued
    finally:
        relay.stop()
        proxy.close()


def add_account(relay, name: str, token: str) -> None:
    body = {"id": name, "token": token}
    answer = requests.post(f"{relay.base}/v1/accounts", json=body, headers=AUTH, timeout=30)
    assert answer.status_code == 201, answer.text


def test_cold_accounts_do_not_wait_behind_a_hot_backlog(relay, sandbox):
    sandbox.knobs(run_seconds=2.0, run_seconds_max=4.0, callback_drop=1.0)
    # The hot token is exempt from limits (a JWT claim, honoured by relay and sandbox alike):
    # its whole backlog is claimable at once, so only the turns keep it from going first.
    add_account(relay, "hot", claims_token({"exempt": True}, "hot"))
    cold = [f"cold-{n:02d}" for n in range(COLD_ACCOUNTS)]
    for name in cold:
        add_account(relay, name, f"opaque-token-{name}-0123456789")
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda n: relay.trigger(account="hot", metadata={"n": n}), range(HOT_RUNS)))
    cold_ids = {relay.trigger(account=name): name for name in cold}  # queued last

    assert all(r["submitted_at"] is None for r in relay.runs())  # all queued for the workers
    started = time.time()
    for _ in range(WORKERS):
        relay.start_worker()
    wait_for(lambda: first_polls_done(relay, cold_ids), 120, interval=0.5)
    ended = time.time()

    rows, gets = snapshot(relay)
    hot_rows = [r for r in rows.values() if r["account_id"] == "hot"]
    figures = {"hot_submissions_ahead": [], "hot_gets_ahead": [], "cold_submit_wait_s": []}
    figures |= {"cold_first_poll_late_s": []}
    for run_id in cold_ids:
        row = rows[run_id]
        poll_due = row["submitted_at"] + FIRST_POLL
        first_get = min(at for rid, at in gets if rid == run_id)
        # Hot work done after the cold run's turn came (the workers' start; its poll's due
        # time) and before the cold run's own call: what it waited behind.
        figures["hot_submissions_ahead"].append(
            sum(1 for r in hot_rows if started < (r["submitted_at"] or 0) < row["submitted_at"])
        )
        figures["hot_gets_ahead"].append(
            sum(
                1
                for rid, at in gets
                if rows[rid]["account_id"] == "hot" and poll_due < at < first_get
            )
        )
        figures["cold_submit_wait_s"].append(row["submitted_at"] - started)
        figures["cold_first_poll_late_s"].append(first_get - poll_due)
    hot_submitted = [r["submitted_at"] for r in hot_rows if r["submitted_at"]]
    rate = len(hot_submitted) / (ended - started)
    summary = {key: summarise(values) for key, values in figures.items()}
    # Where a first-come queue would have put the cold runs: behind all 1,000 hot ones.
    summary |= {"hot_submitted_per_s": round(rate, 1), "fifo_wait_s": round(HOT_RUNS / rate, 1)}
    print(f"\nfairness figures (1 hot account x {HOT_RUNS} runs, {COLD_ACCOUNTS} cold): {summary}")

    assert len(hot_submitted) > ROOM  # the hot account was served too, all the while
    assert max(figures["hot_submissions_ahead"]) <= ROOM, summary
    assert max(figures["hot_gets_ahead"]) <= ROOM, summary


def first_polls_done(relay, cold_ids) -> bool:
    """Every cold run polled at least once."""
    with read(relay.engine) as conn:
        polled = conn.execute(
            select(upstream_calls.c.run_id)
            .where(upstream_calls.c.run_id.in_(list(cold_ids)))
            .where(upstream_calls.c.operation.in_(POLL_OPERATIONS))
            .distinct()
        ).all()
    return len(polled) == len(cold_ids)


def snapshot(relay):
    with read(relay.engine) as conn:
        rows = {r["id"]: dict(r) for r in conn.execute(select(runs)).mappings()}
        gets = conn.execute(
            select(upstream_calls.c.run_id, upstream_calls.c.at).where(
                upstream_calls.c.operation.in_(POLL_OPERATIONS)
            )
        ).all()
    return rows, [(rid, at) for rid, at in gets]


def summarise(values: list[float]) -> dict:
    return {"p50": round(statistics.median(values), 2), "max": round(max(values), 2)}
