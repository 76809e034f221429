"""The learned poll schedule on a virtual clock: the duration estimate (open runs counted as
"longer than their age"), where polls go, the fallback, and the shortfall figure."""

import pytest

from app.runs.duration_estimate import Observation, estimate, observation
from app.runs.poll_plan import MIN_ENDED, PollPlan, plan_for, shortfall
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
    assert observation(run("submitted"), now) == Observation(50, False)
    assert observation(run("failed"), now) is None  # refused: no duration
    assert observation({**run("queued"), "submitted_at": None}, now) is None


def test_too_little_history_keeps_the_fixed_back_off():
    plan = plan_for(estimate(ended(*range(1, MIN_ENDED))), CAP)
    assert not plan.learned
    assert [plan.next_delay(0, polls) for polls in (0, 6, 7)] == [
        next_poll_delay(polls, CAP) for polls in (0, 6, 7)
    ]


def test_polls_go_where_a_result_has_become_likely():
    """Runs of 10, 20, ... 100 s: the first poll where a third have ended; each next one where
    a third of those still running at the last poll have ended since."""
    plan = plan_for(estimate(ended(*range(10, 101, 10))), CAP)
    assert plan.learned
    assert plan.first_delay() == 40  # 4 of 10 done by 40 s (3 by 30 s: not a third)
    assert 40 + plan.next_delay(40, 1) == 60  # 6 left at 40 s; 2 more by 60 s
    assert 60 + plan.next_delay(60, 2) == 80


def test_past_the_longest_duration_seen_the_gap_doubles_up_to_the_cap():
    plan = plan_for(estimate(ended(*range(10, 101, 10))), CAP)
    assert plan.next_delay(100, 5) == 100  # every run seen had ended by 100 s
    assert plan.next_delay(200, 6) == 200
    assert plan.next_delay(1_000, 7) == CAP


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
