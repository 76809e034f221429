"""Run states: every transition checked, terminal states never move."""

import itertools

import pytest

from app.runs.report_decisions import ReportVerdict
from app.runs.states import (
    FINAL_STATES,
    RunKind,
    RunState,
    can_move,
    sources_for,
    state_for_status,
)

EXPECTED = {
    ("queued", "submitted"),
    ("queued", "waiting"),
    ("queued", "succeeded"),
    ("queued", "failed"),
    ("queued", "expired"),
    ("queued", "refused"),
    ("submitted", "queued"),
    ("submitted", "waiting"),
    ("submitted", "succeeded"),
    ("submitted", "failed"),
    ("submitted", "expired"),
    ("waiting", "queued"),
    ("waiting", "succeeded"),
    ("waiting", "failed"),
    ("waiting", "expired"),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(RunState, RunState)))
def test_transition_table(current, target):
    assert can_move(current, target) == ((current.value, target.value) in EXPECTED)


def test_final_states_are_named_and_closed():
    assert {s.value for s in FINAL_STATES} == {"succeeded", "failed", "expired", "refused"}
    for state in FINAL_STATES:
        assert state.is_final and not any(can_move(state, t) for t in RunState)


def test_no_report_moves_a_run_backwards():
    # Requeueing (submitted/waiting -> queued) is the throttled-resubmission path, not a report.
    assert not can_move("waiting", "submitted") and not can_move("queued", "queued")
    assert set(sources_for("queued")) == {"submitted", "waiting"}


def test_sources_for_guarded_updates():
    assert set(sources_for("succeeded")) == {"queued", "submitted", "waiting"}
    assert sources_for("refused") == ("queued",)


def test_upstream_status_mapping():
    assert state_for_status("success") is RunState.SUCCEEDED
    assert state_for_status("error") is RunState.FAILED
    assert state_for_status("waiting") is RunState.WAITING
    assert state_for_status("bogus") is None


def test_stored_strings_stay_the_same():
    # Rows and /metrics labels hold these values: renaming a member must not change them.
    assert {k.value for k in RunKind} == {"stored_action", "action_run"}
    assert {v.value for v in ReportVerdict} == {
        "settled",
        "waiting",
        "throttled",
        "duplicate",
        "stale",
        "run_mismatch",
        "late",
    }
    assert RunKind.ACTION_RUN == "action_run" and ReportVerdict.SETTLED == "settled"
