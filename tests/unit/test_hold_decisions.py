"""Decisions for an account whose token upstream refused: held, never failed, and given up only
at RUN_MAX_AGE_SECONDS; the reason goes once the account's work resumes."""

from app.runs.poll_decisions import PollVerdict, decide_poll
from app.runs.states import RunState
from app.runs.submit_decisions import decide_submission
from app.upstream import outcomes as oc
from tests.unit.test_decisions import CAP, GRACE, MAX_AGE, NOW, a_run

REASON = "account acme unauthorized: upstream answered HTTP 401: Token expired."
HELD = oc.Unauthorized("acme", REASON, status=401)


def poll(outcome, run):
    return decide_poll(run, outcome, NOW, poll_count=2, grace=GRACE, cap=CAP, max_age=MAX_AGE)


def test_a_held_submission_keeps_its_due_time_and_attempts():
    run = a_run(state=RunState.QUEUED.value, submit_attempts=3)
    decision = decide_submission(run, HELD, NOW)
    assert decision.settlement is None and decision.move_to is None
    assert decision.values == {"updated_at": NOW, "reason": REASON}
    assert decision.retry_in is None


def test_an_unreadable_account_is_tried_again_later():
    run = a_run(state=RunState.QUEUED.value)
    later = oc.Unauthorized("acme", "account acme cannot be used: ...", retry_in=60.0)
    decision = decide_submission(run, later, NOW)
    assert decision.values["next_submit_at"] == NOW + 60.0 and decision.retry_in == 60.0


def test_a_held_poll_is_not_counted_and_keeps_its_due_time():
    decision = poll(HELD, a_run())
    assert decision.verdict is PollVerdict.HELD
    assert decision.values == {
        "poll_count": 2,
        "updated_at": NOW,
        "lease_until": None,
        "lease_owner": None,
        "reason": REASON,
    }
    assert decision.settlement is None and decision.expiry is None


def test_a_held_run_expires_at_its_max_age():
    old = a_run(created_at=NOW - MAX_AGE - 1)
    decision = poll(HELD, old)
    assert decision.expiry is not None and decision.expiry.target is RunState.EXPIRED


def test_the_held_reason_goes_when_polls_resume():
    held = a_run(reason=REASON)
    assert poll(oc.Processing(status=202), held).values["reason"] is None
    assert "reason" not in poll(oc.Processing(status=202), a_run(reason=None)).values
    refused = poll(oc.Refused(status=400, errors=[]), held)
    assert "reason" not in refused.values  # the settlement writes its own
    settled = poll(oc.Result(body={"status": "success", "errors": []}, raw="{}"), held)
    assert "reason" not in settled.values_after(settled.report.verdict)
