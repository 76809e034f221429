"""The operator's day in a real browser, against real gunicorn, a real worker and the sandbox:
a target fails, the failed delivery shows up, the receiver is fixed, one click redelivers it,
and the receiver verifies it under the same webhook-id."""

from __future__ import annotations

import re
import time

import pytest

from tests.console.conftest import sign_in, watch_problems

pytestmark = pytest.mark.e2e


def reload_until(page, locator, timeout: float = 30.0) -> None:
    """Reload `page` until `locator` shows: what an operator does, or the refresh box does."""
    deadline = time.monotonic() + timeout
    while True:
        if locator.count() and locator.first.is_visible():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not shown within {timeout} s: {locator}")
        time.sleep(0.5)
        page.reload()


def test_a_failed_delivery_is_redelivered_with_a_click(browser_context, stack):
    page = browser_context.new_page()
    problems = watch_problems(page)
    receiver = stack.receiver

    # 1. Sign in (the key typed into the form, Enter to send).
    sign_in(page)
    assert page.get_by_role("heading", name=re.compile("Overview")).is_visible()

    # 2. The target fails: every attempt is answered 500.
    receiver.status = 500
    run_id = stack.relay.trigger()
    assert receiver.wait_for(lambda got: len(got) >= 3, 30)  # the first try and 2 retries
    failed_ids = {r["webhook_id"] for r in receiver.received}
    assert len(failed_ids) == 1 and all(r["status"] == 500 for r in receiver.received)

    # 3. The failed delivery appears among the failed ones, tied to its run.
    page.get_by_role("link", name="Deliveries", exact=True).click()
    failed = page.get_by_role("region", name=re.compile("^Failed deliveries"))
    row = failed.get_by_role("row").filter(has_text=f"run {run_id[:8]}")
    reload_until(page, row)
    assert row.get_by_text("HTTP 500").is_visible()

    # 4. The receiver is fixed.
    receiver.status = 204

    # 5. Redeliver, with a click on that row's button.
    row.get_by_role("button", name="Redeliver").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").filter(has_text="same webhook-id").is_visible()

    # 6. It succeeds: the receiver verified the signature of a 204-answered forward...
    assert receiver.wait_for(lambda got: any(r["status"] == 204 for r in got), 30)
    delivered = [r for r in receiver.received if r["status"] == 204]
    assert len(delivered) == 1 and not receiver.rejected
    # ...under the webhook-id of the failed attempts, for the same run.
    assert delivered[0]["webhook_id"] in failed_ids
    assert delivered[0]["body"]["data"]["run_id"] == run_id

    # The run page tells the same story: every failed attempt, then the HTTP 204, delivered.
    page.goto(f"/console/runs/{run_id}")
    delivery = page.get_by_role("region", name=re.compile("Delivery to "))
    reload_until(page, delivery.locator(".state-delivered"))
    attempts = delivery.get_by_role("region", name=re.compile("^Attempts of"))
    answers = attempts.get_by_role("row").all_inner_texts()[1:]
    refused = [r for r in receiver.received if r["status"] == 500]
    assert [re.search(r"HTTP (\d+)", a).group(1) for a in answers] == ["500"] * len(refused) + [
        "204"
    ]
    assert delivered[0]["webhook_id"] in page.content()
    assert problems == []
