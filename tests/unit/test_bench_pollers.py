"""The polling benchmark's fixed-interval baselines (bench/fixed_pollers.py), worked by hand."""

from __future__ import annotations

from typing import NamedTuple

from bench.fixed_pollers import limited, pure, pure_peak


class SimRun(NamedTuple):
    """What the pollers read of bench.polling_sim.SimRun."""

    submit_at: float
    ready_at: float


def test_pure_poller_finds_a_result_at_the_first_multiple_of_its_interval():
    runs = pure([SimRun(0.0, 12.0), SimRun(0.0, 10.0), SimRun(0.0, 0.5)], 5.0)
    assert [(r["gets"], r["delay"]) for r in runs] == [(3, 3.0), (2, 0.0), (1, 4.5)]


def test_pure_peak_counts_gets_in_upstreams_windows():
    # GETs at 10, 20, 30 (the first run), 10 (the second) and 20 (the third): windows of
    # 25 s hold 4 and 1.
    specs = [SimRun(0.0, 30.0), SimRun(0.0, 5.0), SimRun(10.0, 15.0)]
    assert pure_peak(specs, 10.0, 25.0) == 4


def test_the_limiter_never_exceeds_the_budget_and_holds_polls_in_order():
    specs = [SimRun(0.0, 1.0) for _ in range(5)]
    runs, held = limited(specs, 2.0, limit=2, window=10.0)
    # Two polls at 2 s, two at the next window's start (10 s), the last at 20 s.
    assert [r["delay"] for r in runs] == [1.0, 1.0, 9.0, 9.0, 19.0]
    assert held == 3
    assert all(r["gets"] == 1 for r in runs)


def test_the_limiter_queues_a_runs_next_poll_an_interval_after_the_last_one_sent():
    runs, held = limited([SimRun(0.0, 11.0)], 4.0, limit=1, window=10.0)
    # Sent at 4; queued for 8, held to 10 (the window is spent); queued for 14, held to 20.
    assert runs == [{"gets": 3, "delay": 9.0}]
    assert held == 2


def test_a_budget_wide_enough_leaves_the_limited_poller_the_pure_one():
    specs = [SimRun(float(i), float(i) + 7.5 * (i + 1)) for i in range(6)]
    runs, held = limited(specs, 3.0, limit=10**6, window=300.0)
    assert held == 0
    assert [(r["gets"], r["delay"]) for r in runs] == [
        (r["gets"], r["delay"]) for r in pure(specs, 3.0)
    ]
