"""Fairness and pacing on a virtual clock, through the relay's own worker code (poll_one,
claims, budget, gateway on real SQLite; only the HTTP client is simulated: bench/polling_sim).

Sixty runs that all take ten minutes, a budget of 20 GETs a minute and POLL_MAX_INTERVAL 30 s:
the budget cannot poll every run every 30 s (120 GETs a minute), so each gets its turn in line.
"""

from __future__ import annotations

from bench.polling_sim import SimRun, simulate

T0 = 1_800_000_000.0
RUNS, LIMIT, WINDOW, CAP = 60, 20, 60.0, 30.0
DURATION = 600.0


def test_no_run_starves_when_the_budget_cannot_cover_the_cap(tmp_path):
    specs = [SimRun(T0 + i * 0.1, T0 + i * 0.1 + DURATION) for i in range(RUNS)]
    result = simulate(
        specs,
        tmp_path,
        get_limit=LIMIT,
        window=WINDOW,
        CALLBACKS="off",
        POLL_MAX_INTERVAL_SECONDS=CAP,
    )
    runs = result["runs"]
    gets = [r["gets"] for r in runs]
    # Never a 429, never more than the budget in a window of upstream's grid.
    assert result["answered_429"] == 0 and result["max_gets_per_window"] <= LIMIT
    assert result["unsettled"] == 0
    # Fair shares: every run polled about as often as every other.
    assert max(gets) - min(gets) <= 2, gets
    # A round of the line is RUNS / LIMIT windows (3 min): no result waits much longer.
    round_seconds = RUNS / LIMIT * WINDOW
    assert max(r["delay"] for r in runs) <= round_seconds + WINDOW / LIMIT * 2


def test_a_paced_burst_spends_the_budget_evenly_not_at_once(tmp_path):
    """Far more due polls than the window allows: the window's calls spread over it."""
    specs = [SimRun(T0, T0 + DURATION) for _ in range(RUNS)]
    result = simulate(specs, tmp_path, get_limit=LIMIT, window=WINDOW, CALLBACKS="off")
    per_window = [count for _start, count in result["gets_per_window"]]
    assert result["answered_429"] == 0 and max(per_window) <= LIMIT
    assert result["idle_steps"] == 0  # the worker never spun on work it could not claim
    # The first window's twenty polls go out over the window, not all at its start.
    firsts = sorted(r["first_poll"] for r in result["runs"])[:LIMIT]
    assert firsts[-1] - firsts[0] >= WINDOW / 2, firsts
