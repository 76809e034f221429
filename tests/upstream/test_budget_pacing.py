"""The budget follows upstream's Reset however far it lies, counts a call sent at a window's
very end in the next window too, and spreads a backlog larger than the window's rest."""

import pytest

from app.upstream.budget import RateBudget
from app.upstream.outcomes import RateInfo

WINDOW = 300.0
T0 = 1_800_000_000.0


def test_a_reset_further_than_one_window_away_is_honoured(store_engine):
    """An upstream that rounded its Reset up: none remain until then, and none go out."""
    budget = RateBudget(store_engine, {"run": 3}, WINDOW)
    for _ in range(3):
        assert budget.acquire("run", T0).granted
    far = T0 + WINDOW + 60  # past our own window's end
    budget.observe("run", RateInfo(limit=3, remaining=0, reset_at=far), T0 + 1)

    # Our own arithmetic would open a new window at T0 + WINDOW; upstream's reset wins.
    assert budget.try_acquire("run", T0 + WINDOW + 1) == pytest.approx(59)
    assert budget.acquire("run", far).granted


def test_remaining_calls_before_a_far_reset_are_all_that_go_out(store_engine):
    budget = RateBudget(store_engine, {"get": 10}, WINDOW)
    assert budget.acquire("get", T0).granted
    budget.observe("get", RateInfo(limit=10, remaining=2, reset_at=T0 + 2 * WINDOW), T0)

    granted = [budget.acquire("get", T0 + WINDOW + i).granted for i in range(5)]

    assert granted == [True, True, False, False, False]


def test_a_call_at_a_windows_end_counts_in_the_next_window_too(store_engine):
    """It may reach upstream after upstream's window rolled over: never one too many there."""
    budget = RateBudget(store_engine, {"run": 2}, WINDOW)
    assert budget.acquire("run", T0).granted
    assert budget.acquire("run", T0 + WINDOW - 0.5).granted  # in flight across the boundary

    next_window = [budget.acquire("run", T0 + WINDOW + 0.1).granted for _ in range(3)]

    assert next_window == [True, False, False]


def test_a_call_well_inside_a_window_is_not_carried(store_engine):
    budget = RateBudget(store_engine, {"run": 2}, WINDOW)
    assert budget.acquire("run", T0).granted
    assert budget.acquire("run", T0 + 10).granted

    assert [budget.acquire("run", T0 + WINDOW + 1).granted for _ in range(3)] == [
        True,
        True,
        False,
    ]


def test_a_backlog_beyond_the_budget_is_spread_over_the_window(store_engine):
    """1,000 polls due, 600 allowed in 300 s: one every half second, not 600 at once."""
    budget = RateBudget(store_engine, {"get": 600}, WINDOW)
    assert budget.acquire("get", T0, backlog=1000).granted

    right_after = budget.acquire("get", T0 + 0.1, backlog=999)

    assert not right_after.granted
    # Over the window less its last 2 s (whose calls count in the next window too).
    assert right_after.wait == pytest.approx((WINDOW - 2) / 600 - 0.1, rel=1e-3)
    assert budget.acquire("get", T0 + (WINDOW - 2) / 600, backlog=999).granted


def test_a_paced_window_still_spends_its_whole_budget(store_engine):
    budget = RateBudget(store_engine, {"get": 20}, WINDOW)
    now, granted = T0, 0
    while now < T0 + WINDOW:
        admission = budget.acquire("get", now, backlog=100)
        if admission.granted:
            granted += 1
            continue
        now += admission.wait
        if admission.window_end <= now:
            break

    assert granted == 20


def test_a_backlog_the_budget_covers_goes_at_once(store_engine):
    budget = RateBudget(store_engine, {"get": 600}, WINDOW)

    assert all(budget.acquire("get", T0, backlog=50 - i).granted for i in range(50))


def test_every_caller_waits_for_the_pace(store_engine):
    """A Zap Runs scan (no backlog given) does not jump a paced backlog."""
    budget = RateBudget(store_engine, {"get": 10}, WINDOW)
    assert budget.acquire("get", T0, backlog=100).granted

    assert not budget.acquire("get", T0 + 1).granted


def test_calls_sent_before_upstream_told_its_boundary_count_in_the_next_window(store_engine):
    """The relay's first window is its own (from its first call); the first answer puts it on
    upstream's grid, 50 ms before a boundary. The calls already granted may land past it."""
    budget = RateBudget(store_engine, {"run": 3}, 5.0)
    for _ in range(3):
        assert budget.acquire("run", T0).granted
    budget.observe("run", RateInfo(limit=3, remaining=2, reset_at=T0 + 0.05), T0 + 0.02)

    # Two of the three are still on their way: upstream's next window may count them.
    assert not budget.acquire("run", T0 + 0.06).granted


def test_a_paced_window_keeps_clear_of_the_stretch_counted_twice(store_engine):
    """Paced calls end before the window's last seconds, so the next window keeps its budget."""
    budget = RateBudget(store_engine, {"get": 5}, 5.0)
    now, times = T0, []
    while now < T0 + 5.0:
        admission = budget.acquire("get", now, backlog=100)
        if admission.granted:
            times.append(now - T0)
            continue
        now += admission.wait
    assert len(times) == 5 and max(times) < 5.0 - 1.25  # carry_seconds(5 s windows)
    # None of them counted in the next window: it keeps all five.
    assert [budget.acquire("get", T0 + 5.0 + i / 10).granted for i in range(6)] == [True] * 5 + [
        False
    ]
