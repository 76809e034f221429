"""The shared rate budget on real SQLite and PostgreSQL: grants, windows, headers, blocks."""

import time

import pytest

from app.store.engine import build_engine
from app.upstream.budget import RateBudget
from app.upstream.outcomes import RateInfo

WINDOW = 300.0


@pytest.fixture
def t0():
    return time.time()


def _grants(budget, bucket, now, attempts):
    return sum(budget.try_acquire(bucket, now) == 0.0 for _ in range(attempts))


def test_grants_up_to_the_limit_then_waits_for_the_window_end(store_engine, t0):
    budget = RateBudget(store_engine, {"run": 3}, WINDOW)

    assert [budget.try_acquire("run", t0 + i) for i in range(3)] == [0.0, 0.0, 0.0]
    assert budget.try_acquire("run", t0 + 10) == pytest.approx(WINDOW - 10)


def test_buckets_are_counted_apart(store_engine, t0):
    budget = RateBudget(store_engine, {"run": 1, "get": 2}, WINDOW)

    assert _grants(budget, "run", t0, 5) == 1
    assert _grants(budget, "get", t0, 5) == 2


def test_windows_follow_back_to_back(store_engine, t0):
    budget = RateBudget(store_engine, {"get": 1}, WINDOW)
    first = budget.acquire("get", t0)

    later = budget.acquire("get", t0 + 3.5 * WINDOW)

    assert first.granted and later.granted
    assert later.window_start == pytest.approx(t0 + 3 * WINDOW)
    assert later.window_end == pytest.approx(t0 + 4 * WINDOW)


def test_two_processes_worth_of_engines_share_one_budget(store_engine, store_url, t0):
    other_engine = build_engine(store_url, pool_size=1)
    try:
        mine = RateBudget(store_engine, {"run": 4}, WINDOW)
        theirs = RateBudget(other_engine, {"run": 4}, WINDOW)
        granted = [b.try_acquire("run", t0) == 0.0 for b in (mine, theirs) * 3]
    finally:
        other_engine.dispose()

    assert granted == [True] * 4 + [False] * 2


def test_upstream_remaining_lowers_our_budget(store_engine, t0):
    budget = RateBudget(store_engine, {"get": 10}, WINDOW)

    budget.observe("get", RateInfo(limit=10, remaining=3), t0)

    assert _grants(budget, "get", t0, 10) == 3


def test_upstream_remaining_never_lowers_our_count(store_engine, t0):
    budget = RateBudget(store_engine, {"get": 10}, WINDOW)
    _grants(budget, "get", t0, 5)

    budget.observe("get", RateInfo(limit=10, remaining=9), t0)

    assert budget.snapshot(t0)["get"]["remaining"] == 5


def test_upstream_with_a_smaller_limit_than_ours_still_stops_us(store_engine, t0):
    budget = RateBudget(store_engine, {"run": 200}, WINDOW)

    budget.observe("run", RateInfo(limit=50, remaining=0), t0)

    assert budget.try_acquire("run", t0) > 0


def test_window_aligns_to_upstream_reset(store_engine, t0):
    budget = RateBudget(store_engine, {"get": 1}, WINDOW)
    budget.try_acquire("get", t0)

    budget.observe("get", RateInfo(remaining=0, reset_at=t0 + 42), t0)

    assert budget.try_acquire("get", t0 + 1) == pytest.approx(41)
    assert budget.acquire("get", t0 + 42).granted
    assert budget.snapshot(t0 + 43)["get"]["window_end"] == pytest.approx(t0 + 42 + WINDOW)


def test_headers_about_an_ended_window_are_ignored(store_engine, t0):
    budget = RateBudget(store_engine, {"get": 5}, WINDOW)

    budget.observe("get", RateInfo(remaining=0, reset_at=t0 - 1), t0)

    assert _grants(budget, "get", t0, 5) == 5


def test_block_makes_everyone_wait_until_then(store_engine, t0):
    budget = RateBudget(store_engine, {"run": 100}, WINDOW)
    budget.try_acquire("run", t0)

    budget.block("run", t0 + 30)

    assert budget.try_acquire("run", t0 + 10) == pytest.approx(20)
    assert budget.try_acquire("run", t0 + 30) == 0.0


def test_block_waits_for_the_later_of_block_and_window(store_engine, t0):
    budget = RateBudget(store_engine, {"run": 1}, WINDOW)
    budget.try_acquire("run", t0)

    budget.block("run", t0 + 10)

    assert budget.try_acquire("run", t0 + 1) == pytest.approx(WINDOW - 1)


def test_snapshot_reports_each_bucket(store_engine, t0):
    budget = RateBudget(store_engine, {"get": 600, "run": 200}, WINDOW)
    _grants(budget, "run", t0, 3)

    view = budget.snapshot(t0 + 1)

    assert view["run"] == {
        "limit": 200,
        "used": 3,
        "remaining": 197,
        "window_end": pytest.approx(t0 + WINDOW),
        "blocked_until": 0.0,
    }
    assert view["get"]["remaining"] == 600
    assert budget.snapshot(t0 + WINDOW)["run"]["remaining"] == 200


def test_unknown_bucket_is_refused_loudly(store_engine):
    with pytest.raises(ValueError, match="unknown rate budget bucket"):
        RateBudget(store_engine, {"get": 1}).try_acquire("post")
