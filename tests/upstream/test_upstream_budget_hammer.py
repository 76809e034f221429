"""Real processes with several threads each on one database: no window grants past its limit."""

import itertools
import multiprocessing
import threading
import time
from collections import Counter

import pytest

from app.store.engine import build_engine
from app.upstream.budget import RateBudget

PROCESSES = 4
THREADS = 3
LIMIT = 50
WINDOW = 1.0
DURATION = 3.3  # spans at least three whole windows whichever moment the first one starts


def hammer(url, barrier, results):
    """One process: THREADS threads asking the shared budget as fast as they can for DURATION."""
    engine = build_engine(url, pool_size=THREADS)
    budget = RateBudget(engine, {"run": LIMIT}, WINDOW)
    grants, lock = [], threading.Lock()

    def ask_until(deadline):
        while (now := time.time()) < deadline:
            admission = budget.acquire("run", now)
            if admission.granted:
                with lock:
                    grants.append((now, admission.window_start, admission.window_end))

    try:
        barrier.wait()
        deadline = time.time() + DURATION
        threads = [threading.Thread(target=ask_until, args=(deadline,)) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        engine.dispose()
        results.put(grants)


@pytest.mark.timeout(60)
def test_no_window_grants_more_than_its_limit(store_engine, store_url):
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(target=hammer, args=(store_url, barrier, results)) for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    grants = [grant for _ in workers for grant in results.get(timeout=45)]
    for worker in workers:
        worker.join(timeout=10)
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES

    per_window = Counter(window_end for _, _, window_end in grants)
    assert max(per_window.values()) <= LIMIT
    # Contention was real: the whole windows in the middle were used up to the last call.
    ends = sorted(per_window)
    assert len(ends) >= 3
    assert [per_window[end] for end in ends[1:-1]] == [LIMIT] * (len(ends) - 2)
    # Windows are distinct, back to back, and no grant was counted in a window already over.
    assert all(b - a >= WINDOW - 1e-6 for a, b in itertools.pairwise(ends))
    assert all(start - 1e-6 <= end - WINDOW for _, start, end in grants)
    assert all(now < end for now, _, end in grants)
