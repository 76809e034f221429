"""Upstream 4xx on the trigger: the client gets the same status and upstream's errors."""

import pytest

from tests.conftest import STORED_ACTION

RUN_URL = f"/actions/v1/stored-actions/{STORED_ACTION}/run"
UPSTREAM_PATH = f"/actions/v1/stored-actions/{STORED_ACTION}/run"


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "bad_request"), (402, "payment_required"), (403, "permission_denied")],
)
def test_upstream_refusal_is_passed_through(httpserver, make_app, status, code):
    errors = [
        {
            "status": status,
            "code": code,
            "title": "No",
            "detail": "refused",
            "source": None,
            "meta": {},
        }
    ]
    httpserver.expect_request(UPSTREAM_PATH, method="POST").respond_with_json(
        {"errors": errors}, status=status
    )
    client, _ = make_app({"ZAPIER_API_BASE": httpserver.url_for("")})
    headers = {"Idempotency-Key": "k1"}
    first = client.post(RUN_URL, json={"data": {}}, headers=headers)
    again = client.post(RUN_URL, json={"data": {}}, headers=headers)
    assert first.status_code == again.status_code == status
    assert first.get_json() == {"errors": errors} == again.get_json()
    assert len(httpserver.log) == 1  # the repeat is answered from the store
