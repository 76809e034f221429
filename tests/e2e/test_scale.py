"""Several machines' worth on one PostgreSQL: 2 web instances, 3 workers, 500 runs, 2 kill -9s."""

from __future__ import annotations

import collections
import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import e2e_relay

pytestmark = [pytest.mark.e2e, pytest.mark.load]
RUNS = 500
WINDOW, RUN_LIMIT, GET_LIMIT = 5, 60, 90  # small windows, so 500 runs span many of them


@pytest.fixture
def cluster(tmp_path, postgres_url, sandbox, receiver):
    env = {
        "ZAPIER_RATE_WINDOW_SECONDS": str(WINDOW),
        "ZAPIER_RUN_LIMIT": str(RUN_LIMIT),
        "ZAPIER_GET_LIMIT": str(GET_LIMIT),
        "WORKER_THREADS": "4",
    }
    started = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        relay = e2e_relay(tmp_path / name, postgres_url, sandbox, receiver, env)
        started.append(relay.start())  # web (gunicorn, 2 processes) and one worker each
    started[0].start_worker()  # the third worker
    yield started
    for relay in started:
        relay.stop()


def test_two_web_three_workers_lose_nothing_and_keep_the_budget(cluster, sandbox, receiver):
    sandbox.knobs(
        run_seconds=0.2,
        run_seconds_max=2.0,
        callback_drop=0.3,
        window_seconds=WINDOW,
        run_limit=RUN_LIMIT,
        get_limit=GET_LIMIT,
    )
    web_a, web_b = cluster
    instances = itertools.cycle(cluster)
    with ThreadPoolExecutor(8) as pool:
        run_ids = list(pool.map(lambda n: next(instances).trigger(metadata={"n": n}), range(RUNS)))
    assert len(set(run_ids)) == RUNS

    # Two kill -9s of workers with work in hand, each replaced by a fresh one.
    assert receiver.wait_for(lambda got: len(got) >= 100, 120)
    web_a.workers[0].kill9()
    web_a.start_worker()
    assert receiver.wait_for(lambda got: len(got) >= 250, 180)
    web_b.workers[0].kill9()
    web_b.start_worker()

    def all_forwarded(got):
        return {r["body"]["data"]["run_id"] for r in got} >= set(run_ids)

    assert receiver.wait_for(all_forwarded, 300), len(receiver.received)
    stats = sandbox.stats()
    rows = web_a.runs()
    ids_per_run = collections.defaultdict(set)
    for forward in receiver.received:
        ids_per_run[forward["body"]["data"]["run_id"]].add(forward["webhook_id"])
    figures = {
        "runs": len(rows),
        "states": collections.Counter(r["state"] for r in rows),
        "sources": collections.Counter(r["source"] for r in rows),
        "forwards_received": len(receiver.received),
        "created_upstream": stats["runs"]["stored_action"],
        "max_posts_per_window": stats["rate"]["run"]["max_per_window"],
        "max_gets_per_window": stats["rate"]["get"]["max_per_window"],
        "upstream_429s": sum(stats["rate"][b]["answered_429"] for b in ("run", "get")),
    }
    print(f"\nscale figures: {figures}")

    assert receiver.rejected == []
    assert len(rows) == RUNS and set(figures["states"]) <= {"succeeded", "failed"}
    assert all(len(ids) == 1 for ids in ids_per_run.values())  # one webhook-id per run
    assert figures["created_upstream"] == RUNS  # none created upstream twice
    assert figures["max_posts_per_window"] <= RUN_LIMIT
    assert figures["max_gets_per_window"] <= GET_LIMIT
    assert figures["upstream_429s"] == 0
    assert figures["sources"]["poll"] > 0 and figures["sources"]["callback"] > 0
