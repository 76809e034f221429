"""The learned poll schedule: the duration estimate (open runs counted as "longer than their
age"), where polls go, the price of a GET under the budget, the fallback, the shortfall."""

import math

import pytest

from app.runs.duration_estimate import Observation, estimate, observation
from app.runs.learned_plans import action_key
from app.runs.poll_plan import (
    BUDGET_SHARE,
    GET_PRICE_SECONDS,
    MAX_PRICE_FACTOR,
    MIN_ENDED,
    PollPlan,
    budget_price,
    plan_for,
    shortfall,
)
from app.runs.poll_plan import (
    MIN_GAP_SECONDS as MIN_GAP,
)
from app.runs.poll_schedule import next_poll_delay

CAP = 300.0
SUBMITTED = 1_000.0


def ended(*seconds):
    return [Observation(s, ended=True) for s in seconds]


def test_the_estimate_is_the_share_ended_by_each_age():
    durations = estimate(ended(10, 20, 30, 40))
    shares = [durations.share_by(age) for age in (5, 10, 25, 40, 99)]
    assert shares == pytest.approx([0, 0.25, 0.5, 1, 1])
    assert durations.age_of_share(0.5) == 20 and durations.age_of_share(0.6) == 30


def test_open_runs_keep_a_burst_of_long_runs_from_looking_short():
    """Ten of a hundred runs ended within 10 s; ninety are 20 s old and still open."""
    seen = ended(*range(1, 11)) + [Observation(20.0, ended=False)] * 90
    durations = estimate(seen)
    assert durations.share_by(10) == pytest.approx(0.10)
    assert durations.age_of_share(0.5) is None  # beyond what is known


def test_what_each_run_says_about_its_actions_durations():
    def run(state, source=None, settled=None, pending=None):
        return {
            "state": state,
            "source": source,
            "submitted_at": SUBMITTED,
            "settled_at": settled,
            "last_pending_at": pending,
        }

    now = SUBMITTED + 50
    assert observation(run("succeeded", "callback", SUBMITTED + 12), now) == Observation(12, True)
    # A poll found it at 40 s; the one before said "processing" at 20 s: the middle.
    found = run("succeeded", "poll", SUBMITTED + 40, SUBMITTED + 20)
    assert observation(found, now) == Observation(30, True)
    # Still open: longer than its age when a poll last saw it processing; unpolled: unknown.
    assert observation(run("submitted", pending=SUBMITTED + 45), now) == Observation(45, False)
    assert observation(run("submitted"), now) is None
    assert observation(run("failed"), now) is None  # refused: no duration
    assert observation({**run("queued"), "submitted_at": None}, now) is None


def test_too_little_history_keeps_the_fixed_back_off():
    plan = plan_for(estimate(ended(*range(1, MIN_ENDED))), CAP)
    assert not plan.learned
    assert [plan.next_delay(0, polls) for polls in (0, 6, 7)] == [
        next_poll_delay(polls, CAP) for polls in (0, 6, 7)
    ]


def test_a_poll_goes_where_the_waiting_it_saves_reaches_the_price_of_a_get():
    """Runs of 10, 20, ... 100 s (about a hundredth of them ending each second): a poll g
    seconds after the last one, at age a, saves chance x g / 2 seconds of waiting, with
    chance = (g / 100) / (share still running at a); it goes where that reaches the price of
    a GET (8 s here; GET_PRICE_SECONDS by default)."""
    plan = plan_for(estimate(ended(*range(10, 101, 10))), CAP, price=8.0)
    assert plan.learned and plan_for(plan.durations, CAP).price == GET_PRICE_SECONDS
    assert plan.first_delay() == pytest.approx(40.0)  # g^2 / 200 = 8
    assert plan.next_delay(40, 1) == pytest.approx(960**0.5)  # 40% ended: g^2 / 120 = 8
    # The closer to the longest runs, the likelier a result: the gaps shrink.
    assert plan.next_delay(70, 2) < plan.next_delay(40, 1) < plan.first_delay()


def test_a_higher_price_spends_fewer_gets():
    durations = estimate(ended(*range(10, 101, 10)))
    cheap, dear = plan_for(durations, CAP, price=2.0), plan_for(durations, CAP, price=32.0)
    assert cheap.first_delay() == pytest.approx(20.0) and dear.first_delay() == pytest.approx(80)


def test_the_price_rises_while_the_open_runs_would_overspend_the_budget():
    durations = estimate(ended(*range(10, 101, 10)))
    assert budget_price(durations, [], 2.0) == GET_PRICE_SECONDS
    assert budget_price(durations, [5.0] * 3, math.inf) == GET_PRICE_SECONDS
    assert budget_price(durations, [5.0] * 3, 2.0) == GET_PRICE_SECONDS  # a few runs: covered
    crowded = budget_price(durations, [5.0] * 100, 2.0)
    # At that price the hundred runs' polls fit BUDGET_SHARE of 2 GETs a second.
    gets_per_second = 100 * (durations.hazard(5.0) / (2 * crowded)) ** 0.5
    assert crowded > GET_PRICE_SECONDS and gets_per_second == pytest.approx(2 * BUDGET_SHARE)
    # A backlog no price could fit waits its turn in line instead (see the fairness tests).
    most = GET_PRICE_SECONDS * MAX_PRICE_FACTOR
    assert budget_price(durations, [5.0] * 100_000, 2.0) == most


def test_runs_still_open_past_every_ended_one_are_polled_at_the_tail_rate():
    """Half of the runs ended within 10-50 s, half are still open at 60 s: past 50 s the
    estimate does not stop; it assumes they end at the rate of the last stretch known."""
    durations = estimate(ended(10, 20, 30, 40, 50) * 2 + [Observation(60.0, ended=False)] * 10)
    plan = plan_for(durations, CAP)
    assert 0 < durations.left_after(200) < durations.left_after(60) < 1
    assert MIN_GAP < plan.next_delay(60, 5) < CAP


def test_past_the_longest_duration_seen_runs_end_at_the_rate_the_longest_did():
    """Every run seen ended by 100 s, half of those alive at 50 s within the next 50 s (a rate
    of 1/50 a second): a run older than 100 s is polled every sqrt(2 x price x 50) seconds."""
    plan = plan_for(estimate(ended(*range(10, 101, 10))), CAP, price=4.0)
    assert plan.next_delay(100, 5) == pytest.approx(20.0)
    assert plan.next_delay(1_000, 9) == pytest.approx(20.0)
    assert plan_for(plan.durations, 10.0, price=4.0).next_delay(1_000, 9) == 10.0  # the cap


def test_two_polls_of_a_run_are_never_closer_than_a_second():
    plan = PollPlan(estimate(ended(*([5.0] * 20))), CAP)
    assert plan.next_delay(5.0, 1) >= 1.0


@pytest.mark.parametrize(
    ("open_runs", "limit", "expected"),
    [
        (100, 600, 0),  # 100 runs x 1 poll per 300 s window: covered
        (1000, 600, 400),  # 1,000 runs need 1,000 polls a window: 400 short
        (1000, None, 0),  # exempt
    ],
)
def test_the_shortfall_is_what_the_budget_cannot_cover_at_the_cap(open_runs, limit, expected):
    assert shortfall(open_runs, limit, window=300.0, cap=300.0) == expected
    assert shortfall(100, 600, window=300.0, cap=30.0) == 400  # 10 polls each per window


def test_each_accounts_stored_actions_and_v2_actions_learn_their_own_durations():
    v1 = {"kind": "stored_action", "stored_action_id": "sa-1", "action": None}
    v2 = {"kind": "action_run", "stored_action_id": None, "action": "core:send_email"}
    assert action_key(v1) == ("default", "stored_action", "sa-1")
    assert action_key(v2) == ("default", "action_run", "core:send_email")
    assert action_key({**v1, "account_id": "acme"}) == ("acme", "stored_action", "sa-1")
    assert action_key({**v2, "action": None}) is None  # nothing to learn from: fixed back-off


def test_a_poll_never_waits_past_the_age_by_which_every_run_has_ended():
    """Runs that all end within 3 s: one GET finds any of them at 3 s; waiting longer would
    only add waiting (the price of a GET buys nothing there)."""
    plan = plan_for(estimate(ended(*([1.0] * 5 + [2.0] * 5 + [3.0] * 5))), CAP)
    assert plan.first_delay() == pytest.approx(3.0, abs=0.01)


def test_the_readmes_worked_example():
    """README, "How polls are scheduled": runs of 10 to 100 s evenly, the default price."""
    plan = plan_for(estimate(ended(*range(10, 101, 10))), CAP)
    age, polls = 0.0, []
    for count in range(5):
        age += plan.next_delay(age, count)
        polls.append(round(age))
    assert polls == [28, 52, 72, 87, 97]
    assert plan.next_delay(101.0, 6) == pytest.approx(20.0)  # older than any run seen
