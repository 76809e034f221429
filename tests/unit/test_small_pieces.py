"""Tokens, schedules, signing and error flattening."""

import json
import time

from marshmallow import ValidationError
from standardwebhooks.webhooks import Webhook

from app.config.settings import SANDBOX_FORWARD_SECRET
from app.delivery.retry_schedule import next_delivery_delay
from app.delivery.signing import signed_headers
from app.errors import flatten_messages
from app.runs.poll_schedule import next_poll_delay
from app.runs.tokens import callback_token, token_matches
from app.schemas.relay import RelayStoredActionsRunRequest


def test_callback_tokens_are_per_run_and_per_secret():
    a = callback_token("secret-one-0123456789", "run-1")
    assert a != callback_token("secret-one-0123456789", "run-2")
    assert a != callback_token("secret-two-0123456789", "run-1")
    assert len(a) >= 43  # 256 bits, base64url
    assert token_matches("secret-one-0123456789", "run-1", a)
    assert not token_matches("secret-one-0123456789", "run-1", a[:-1] + "x")


def test_poll_backoff_watches_closely_first_then_grows_to_the_cap():
    delays = [next_poll_delay(n, 300) for n in range(14)]
    assert delays[:9] == [5, 5, 5, 5, 5, 5, 10, 20, 40]
    assert max(delays) == 300 and delays == sorted(delays)
    assert next_poll_delay(0, 2) == 2  # the cap wins from the start


def test_delivery_schedule_then_give_up():
    schedule = (5, 300)
    assert next_delivery_delay(schedule, 1, None) == 5
    assert next_delivery_delay(schedule, 2, None) == 300
    assert next_delivery_delay(schedule, 3, None) is None
    assert next_delivery_delay(schedule, 1, 120) == 120  # Retry-After wins


def test_signed_headers_verify_with_standardwebhooks():
    body = json.dumps({"type": "run.succeeded"})
    headers = signed_headers([SANDBOX_FORWARD_SECRET], "msg_1", body, time.time())
    assert Webhook(SANDBOX_FORWARD_SECRET).verify(body, headers) == {"type": "run.succeeded"}
    assert headers["webhook-signature"].startswith("v1,")


def test_marshmallow_messages_become_json_pointers():
    try:
        RelayStoredActionsRunRequest().load(
            {"data": {"callback_url": "nope", "idempotency_id": "x", "extra": 1}}
        )
    except ValidationError as err:
        pointers = dict(flatten_messages(err.messages))
    assert set(pointers) == {"/data/callback_url", "/data/idempotency_id", "/data/extra"}
