"""The pure decisions: a report, a poll or submission answer, or a run's age -> what to write."""

import json

import pytest

from app.runs.poll_decisions import (
    NOT_FOUND_LIMIT,
    UNANSWERED_LAST_POLL_INTERVALS,
    PollVerdict,
    decide_expiry,
    decide_poll,
)
from app.runs.poll_schedule import next_poll_delay
from app.runs.report_decisions import (
    THROTTLE_RETRY_LIMIT,
    LateResult,
    ReportVerdict,
    decide_report,
    foreign_run_id,
    report_status,
    throttle_delay,
)
from app.runs.states import RunKind, RunState, Settlement
from app.runs.submit_decisions import decide_submission, next_submit_delay
from app.upstream import outcomes as oc

NOW = 1_700_000_000.0
GRACE = 60.0
CAP = 300.0


def a_run(**columns) -> dict:
    """The columns the decisions read, as a submitted v1 run has them."""
    return {
        "id": "run-1",
        "kind": RunKind.STORED_ACTION.value,
        "state": RunState.SUBMITTED.value,
        "upstream_run_id": "up-1",
        "next_poll_at": None,
        "created_at": NOW - 100,
        "submit_attempts": 1,
        "poll_count": 0,
        "not_found_count": 0,
        "throttle_count": 0,
        "result_json": None,
        **columns,
    }


def v2_throttled(*delays) -> dict:
    errors = [{"code": "throttled", "delay": d} for d in delays]
    return {"data": {"id": "up-1", "status": "error", "errors": errors}}


def report(run: dict, body: dict, source: str = "callback"):
    return decide_report(run, body, json.dumps(body), source, NOW, GRACE)


# --- reports (callbacks and poll results) ---------------------------------------------------


def test_a_final_report_settles_the_run_with_its_text_and_source():
    body = {"id": "up-1", "status": "success"}
    decision = report(a_run(), body)
    assert decision.verdict is ReportVerdict.SETTLED and decision.move_to is None
    assert decision.settlement == Settlement(
        RunState.SUCCEEDED, source="callback", result_text=json.dumps(body)
    )
    assert decision.verdict_after(moved=True) is ReportVerdict.SETTLED
    assert decision.verdict_after(moved=False) is ReportVerdict.STALE  # another writer won


@pytest.mark.parametrize(
    ("kind", "body", "status"),
    [
        (RunKind.STORED_ACTION, {"status": "error"}, "error"),
        (RunKind.STORED_ACTION, {"errors": [{"title": "x"}]}, "error"),  # v1 may omit status
        (RunKind.STORED_ACTION, {"errors": []}, "success"),
        (RunKind.ACTION_RUN, {"data": {"status": "success"}}, "success"),
        (RunKind.ACTION_RUN, {"data": {}}, "error"),
    ],
)
def test_report_status_per_kind(kind, body, status):
    assert report_status(kind, body) == status


def test_an_unknown_status_fails_the_run():
    decision = report(a_run(), {"status": "bogus"})
    assert decision.settlement.target is RunState.FAILED


@pytest.mark.parametrize("state", [RunState.QUEUED, RunState.SUBMITTED])
def test_waiting_moves_an_open_run_and_polls_it_after_the_grace(state):
    decision = report(a_run(state=state.value), {"status": "waiting"})
    assert decision.verdict is ReportVerdict.WAITING and decision.settlement is None
    assert decision.move_to is RunState.WAITING
    assert decision.values == {"updated_at": NOW, "next_poll_at": NOW + GRACE}
    assert decision.verdict_after(moved=False) is ReportVerdict.WAITING


def test_waiting_keeps_a_poll_already_planned():
    decision = report(a_run(next_poll_at=NOW + 5), {"status": "waiting"})
    assert decision.values["next_poll_at"] == NOW + 5


@pytest.mark.parametrize(
    ("state", "status", "verdict"),
    [
        (RunState.WAITING, "waiting", ReportVerdict.DUPLICATE),
        (RunState.SUCCEEDED, "waiting", ReportVerdict.STALE),
        (RunState.SUCCEEDED, "success", ReportVerdict.DUPLICATE),
        (RunState.FAILED, "error", ReportVerdict.DUPLICATE),
        (RunState.SUCCEEDED, "error", ReportVerdict.STALE),
        (RunState.EXPIRED, "waiting", ReportVerdict.STALE),
    ],
)
def test_a_report_never_moves_a_run_backwards_or_twice(state, status, verdict):
    decision = report(a_run(state=state.value), {"status": status})
    assert decision.verdict is verdict
    assert decision.move_to is None and decision.settlement is None and not decision.values


@pytest.mark.parametrize("source", ["callback", "poll"])
def test_a_report_naming_another_upstream_run_is_refused(source):
    decision = report(a_run(), {"id": "up-2", "status": "success"}, source=source)
    assert decision.verdict is ReportVerdict.RUN_MISMATCH
    assert decision.settlement is None and decision.move_to is None and decision.late is None


def test_an_id_is_compared_as_a_uuid_and_a_run_without_one_adopts_any():
    upstream = "0b7c9a54-5f4e-4a8e-9b2e-3f1f1c0f7a11"
    run = a_run(upstream_run_id=upstream)
    assert foreign_run_id(run, {"id": upstream.upper()}) is None
    assert foreign_run_id(run, {"errors": []}) is None
    assert foreign_run_id(a_run(upstream_run_id=None), {"id": "up-9"}) is None
    assert foreign_run_id(run, {"id": "up-9"}) == "up-9"


@pytest.mark.parametrize(("status", "target"), [("success", "succeeded"), ("error", "failed")])
def test_a_result_after_expiry_is_late_and_kept_once(status, target):
    body = {"id": "up-1", "status": status}
    decision = report(a_run(state=RunState.EXPIRED.value), body, source="poll")
    assert decision.verdict is ReportVerdict.LATE
    assert decision.late == LateResult(RunState(target), "poll", json.dumps(body))
    assert decision.settlement is None and decision.move_to is None
    assert decision.verdict_after(moved=False) is ReportVerdict.DUPLICATE  # another came first
    again = report(a_run(state=RunState.EXPIRED.value, result_json="{}"), body)
    assert again.verdict is ReportVerdict.DUPLICATE and again.late is None


def test_a_throttled_v2_run_is_queued_again_after_its_longest_delay():
    run = a_run(kind=RunKind.ACTION_RUN.value, throttle_count=1)
    decision = report(run, v2_throttled(3, 12.5))
    assert decision.verdict is ReportVerdict.THROTTLED and decision.move_to is RunState.QUEUED
    assert decision.values == {
        "upstream_run_id": None,
        "next_poll_at": None,
        "next_submit_at": NOW + 12.5,
        "throttle_count": 2,
        "updated_at": NOW,
        "reason": "upstream throttled the run; resubmitting after 12.5s (throttle 2)",
    }
    assert decision.verdict_after(moved=False) is ReportVerdict.STALE


def test_a_throttled_report_for_a_run_already_queued_is_stale():
    run = a_run(kind=RunKind.ACTION_RUN.value, state=RunState.QUEUED.value)
    decision = report(run, v2_throttled(5))
    assert decision.verdict is ReportVerdict.STALE and decision.move_to is None


def test_a_run_throttled_too_often_fails():
    run = a_run(kind=RunKind.ACTION_RUN.value, throttle_count=THROTTLE_RETRY_LIMIT)
    decision = report(run, v2_throttled(5), source="poll")
    assert decision.verdict is ReportVerdict.SETTLED
    assert decision.settlement.target is RunState.FAILED and decision.settlement.source == "poll"


def test_throttle_delay_only_for_v2_and_only_numbers():
    assert throttle_delay(RunKind.STORED_ACTION, v2_throttled(5)) is None
    assert throttle_delay(RunKind.ACTION_RUN, v2_throttled(True, "9")) is None
    assert throttle_delay(RunKind.ACTION_RUN, v2_throttled(-4)) == 0.0
    body = {"data": {"status": "success", "errors": [{"code": "throttled", "delay": 5}]}}
    assert throttle_delay(RunKind.ACTION_RUN, body) is None


# --- polls ----------------------------------------------------------------------------------


MAX_AGE = 3600.0


def poll(outcome, run=None, poll_count=2):
    run = run or a_run(state=RunState.WAITING.value)
    return decide_poll(
        run, outcome, NOW, poll_count=poll_count, grace=GRACE, cap=CAP, max_age=MAX_AGE
    )


RELEASED = {"updated_at": NOW, "lease_until": None, "lease_owner": None}


def test_a_result_is_decided_as_a_report_from_the_poll():
    body = {"id": "up-1", "status": "success"}
    decision = poll(oc.Result(body=body, raw=json.dumps(body), status=200))
    assert decision.verdict is None and decision.settlement is None
    assert decision.report.verdict is ReportVerdict.SETTLED
    assert decision.report.settlement.source == "poll"
    assert decision.values_after(ReportVerdict.SETTLED) == {"poll_count": 3, **RELEASED}
    assert decision.values_after(ReportVerdict.THROTTLED) == {"poll_count": 3, **RELEASED}


@pytest.mark.parametrize("verdict", [ReportVerdict.STALE, ReportVerdict.DUPLICATE])
def test_a_result_that_settled_nothing_keeps_polling(verdict):
    body = {"status": "waiting"}
    decision = poll(oc.Result(body=body, raw="{}", status=200))
    assert decision.report.verdict is ReportVerdict.DUPLICATE  # the run already waits
    assert decision.values_after(verdict) == {
        "poll_count": 3,
        **RELEASED,
        "next_poll_at": NOW + next_poll_delay(3, CAP),
    }


def test_not_found_is_counted_then_fails_the_run():
    first = poll(oc.NotFound(status=404))
    assert first.verdict is PollVerdict.NOT_FOUND and first.settlement is None
    assert first.values == {
        "poll_count": 3,
        **RELEASED,
        "not_found_count": 1,
        "next_poll_at": NOW + next_poll_delay(1, CAP),
    }
    run = a_run(state=RunState.WAITING.value, not_found_count=NOT_FOUND_LIMIT - 1)
    last = poll(oc.NotFound(status=404), run=run)
    assert last.verdict is PollVerdict.FAILED_NOT_FOUND
    assert last.values == {"poll_count": 3, **RELEASED, "not_found_count": NOT_FOUND_LIMIT}
    assert last.settlement == Settlement(
        RunState.FAILED, reason="upstream answered 404 for run up-1 3 times", errors=[]
    )


def test_a_refused_poll_fails_the_run_with_upstreams_errors():
    errors = [{"code": "forbidden"}]
    decision = poll(oc.Refused(errors=errors, status=403))
    assert decision.verdict is PollVerdict.REFUSED
    assert decision.settlement == Settlement(
        RunState.FAILED, reason="upstream refused the poll with HTTP 403", errors=errors
    )
    assert decision.values == {"poll_count": 3, **RELEASED}


@pytest.mark.parametrize(
    ("outcome", "verdict", "wait"),
    [
        (oc.Processing(status=202), PollVerdict.PROCESSING, None),
        (oc.Throttled(30.0, status=429), PollVerdict.THROTTLED, 30.0),
        (oc.Throttled(0.0, status=429), PollVerdict.THROTTLED, None),  # zero: back off
        (oc.Unavailable(12.0, status=503), PollVerdict.UNAVAILABLE, 12.0),
        (oc.Unavailable(status=503), PollVerdict.UNAVAILABLE, None),
        (oc.TransportError("timeout"), PollVerdict.TRANSPORT_ERROR, None),
    ],
)
def test_no_result_yet_polls_again_after_retry_after_or_the_back_off(outcome, verdict, wait):
    decision = poll(outcome)
    assert decision.verdict is verdict and decision.settlement is None and decision.report is None
    expected = NOW + (wait if wait is not None else next_poll_delay(3, CAP))
    pending = {"last_pending_at": NOW} if verdict is PollVerdict.PROCESSING else {}
    assert decision.values == {"poll_count": 3, **RELEASED, "next_poll_at": expected, **pending}


def test_a_deferred_poll_is_not_counted_and_keeps_its_place_until_the_budget_grants():
    """Its next_poll_at stays (its place in line); it is held back until the budget opens."""
    decision = poll(oc.Deferred(7.5))
    assert decision.verdict is PollVerdict.DEFERRED
    assert decision.values == {**RELEASED, "poll_count": 2, "lease_until": NOW + 7.5}


def test_the_back_off_grows_with_the_polls_counted_at_claim():
    decision = poll(oc.Processing(status=202), poll_count=9)
    assert decision.values["next_poll_at"] == NOW + next_poll_delay(10, CAP)


EXPIRY = Settlement(
    RunState.EXPIRED,
    reason="no result within RUN_MAX_AGE_SECONDS",
    values={"lease_until": None, "lease_owner": None},
)


def test_a_queued_run_never_accepted_expires_at_its_max_age_unpolled():
    queued = a_run(state=RunState.QUEUED.value, upstream_run_id=None)
    assert decide_expiry({**queued, "created_at": NOW - 99}, NOW, max_age=100) is None
    assert decide_expiry({**queued, "created_at": NOW - 100}, NOW, max_age=100) == EXPIRY


def test_an_accepted_run_expires_only_after_a_last_poll_upstream_answered():
    old = a_run(created_at=NOW - 100)
    assert decide_expiry(old, NOW, max_age=100, answered=True, cap=5) == EXPIRY
    assert decide_expiry(old, NOW, max_age=100, answered=False, cap=5) is None
    window = UNANSWERED_LAST_POLL_INTERVALS * 5
    older = a_run(created_at=NOW - 100 - window)  # unanswered that long: expired anyway
    assert decide_expiry(older, NOW, max_age=100, answered=False, cap=5) == EXPIRY


@pytest.mark.parametrize(
    "outcome",
    [
        oc.Processing(status=202),
        oc.NotFound(status=404),
        oc.Result(body={"status": "waiting"}, raw="{}", status=200),
    ],
)
def test_a_poll_answered_without_a_result_expires_a_run_too_old(outcome):
    decision = poll(outcome, run=a_run(created_at=NOW - MAX_AGE))
    assert decision.expiry == EXPIRY and decision.settlement is None


def test_a_result_fetched_by_the_last_poll_settles_instead_of_expiring():
    body = {"id": "up-1", "status": "success"}
    decision = poll(oc.Result(body=body, raw="{}", status=200), run=a_run(created_at=NOW - 1e6))
    assert decision.report.verdict is ReportVerdict.SETTLED and decision.expiry is None


@pytest.mark.parametrize(
    "outcome",
    [
        oc.Deferred(3.0),
        oc.Throttled(30.0, status=429),
        oc.Unavailable(1.0, status=503),
        oc.TransportError("timeout"),
        oc.Result(body={"id": "up-2", "status": "success"}, raw="{}", status=200),
    ],
)
def test_a_last_poll_that_told_nothing_about_the_run_is_retried_not_expired(outcome):
    decision = poll(outcome, run=a_run(created_at=NOW - MAX_AGE))
    assert decision.expiry is None and decision.settlement is None
    values = decision.values_after(ReportVerdict.RUN_MISMATCH)
    assert values.get("next_poll_at", values.get("lease_until")) > NOW


def test_a_foreign_poll_answer_is_polled_again_after_the_usual_back_off():
    body = {"id": "up-2", "status": "success"}
    decision = poll(oc.Result(body=body, raw="{}", status=200))
    assert decision.report.verdict is ReportVerdict.RUN_MISMATCH
    assert decision.values_after(ReportVerdict.RUN_MISMATCH) == {
        "poll_count": 3,
        **RELEASED,
        "next_poll_at": NOW + next_poll_delay(3, CAP),
    }


def test_a_late_poll_answer_stops_polling():
    body = {"id": "up-1", "status": "success"}
    decision = poll(oc.Result(body=body, raw="{}", status=200), run=a_run(state="expired"))
    assert decision.report.verdict is ReportVerdict.LATE and decision.expiry is None
    assert decision.values_after(ReportVerdict.LATE) == {"poll_count": 3, **RELEASED}


# --- submissions ----------------------------------------------------------------------------


def test_an_accepted_submission_moves_the_run_to_submitted():
    queued = a_run(state=RunState.QUEUED.value, upstream_run_id=None)
    decision = decide_submission(queued, oc.Accepted("up-9", status=202), NOW, poll_in=40.0)
    assert decision.move_to is RunState.SUBMITTED and decision.settlement is None
    assert decision.values == {
        "upstream_run_id": "up-9",
        "submitted_at": NOW,
        "updated_at": NOW,
        "next_submit_at": None,
        "next_poll_at": NOW + 40.0,
        "submit_attempts": 2,
        "reason": None,
    }
    # A callback that got there first keeps its state; the submission is only noted.
    assert decision.if_moved_on == {"upstream_run_id": "up-9", "submitted_at": NOW}


def test_a_refused_submission_settles_the_run_as_refused():
    errors = [{"code": "invalid", "title": "Bad input"}]
    decision = decide_submission(a_run(), oc.Refused(errors=errors, status=422), NOW)
    assert decision.move_to is None and not decision.values
    assert decision.settlement == Settlement(
        RunState.REFUSED,
        reason="upstream refused the submission with HTTP 422",
        errors=errors,
        values={"refusal_status": 422, "refusal_json": json.dumps(errors)},
    )


BACK_OFF = next_submit_delay(1)  # after the one attempt a_run() has made


@pytest.mark.parametrize(
    ("outcome", "wait", "attempts", "reason"),
    [
        (oc.Deferred(4.0), 4.0, 1, "waiting for the shared upstream budget"),  # no call made
        (oc.Throttled(20.0, status=429), 20.0, 2, "upstream answered HTTP 429; will retry"),
        (oc.Throttled(-3.0, status=429), 0.0, 2, "upstream answered HTTP 429; will retry"),
        (oc.Unavailable(9.0, status=503), 9.0, 2, "upstream answered HTTP 503; will retry"),
        (
            oc.Unavailable(status=502),
            next_submit_delay(1),
            2,
            "upstream answered HTTP 502; will retry",
        ),
        (
            oc.TransportError("connection refused"),
            next_submit_delay(1),
            2,
            "upstream unreachable: connection refused",
        ),
    ],
)
def test_a_submission_without_an_answer_is_tried_again_later(outcome, wait, attempts, reason):
    decision = decide_submission(a_run(state=RunState.QUEUED.value), outcome, NOW)
    assert decision.move_to is None and decision.settlement is None
    assert decision.retry_in == wait
    assert decision.values == {
        "next_submit_at": NOW + wait,
        "submit_attempts": attempts,
        "updated_at": NOW,
        "reason": reason,
    }


def test_submission_back_off_doubles_up_to_five_minutes():
    assert [next_submit_delay(n) for n in range(4)] == [2.0, 4.0, 8.0, 16.0]
    assert next_submit_delay(8) == next_submit_delay(500) == 300.0
