"""Bodies at the edges, on every endpoint that takes one: exactly at and one byte over
MAX_BODY_BYTES, deep nesting, invalid UTF-8, NUL and lone surrogates, long strings, wrong
content types. Never a 5xx; every refusal in the one error shape."""

from __future__ import annotations

import pytest

from tests.fuzz.endpoints import body_endpoints

LIMIT = 2048
NAMES = ["trigger", "action_run", "webhook_create", "webhook_update", "callback"]


def _refusal(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    entry = response.get_json()["errors"][0]
    assert set(entry) == {"status", "code", "title", "detail", "source", "meta"}
    assert entry["status"] == status
    return entry


def _never_5xx(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        _refusal(response, response.status_code)


@pytest.fixture
def endpoints(client, services, sandbox):
    return {e.name: e for e in body_endpoints(client, services, sandbox)}


@pytest.fixture
def limited(make_app, sandbox):
    """The app with the smallest MAX_BODY_BYTES the settings allow, and its endpoints."""
    client, services = make_app({"MAX_BODY_BYTES": str(LIMIT)})
    return client, {e.name: e for e in body_endpoints(client, services, sandbox)}


@pytest.mark.parametrize("name", NAMES)
def test_exactly_at_the_limit_is_accepted_and_one_byte_over_is_413(limited, name):
    client, endpoints = limited
    endpoint = endpoints[name]
    at_limit = endpoint.body("x" * (LIMIT - len(endpoint.body())))
    assert len(at_limit) == LIMIT
    assert endpoint.send(client, at_limit).status_code == endpoint.ok
    over = endpoint.body("x" * (LIMIT + 1 - len(endpoint.body())))
    assert _refusal(endpoint.send(client, over), 413)["code"] == "request_entity_too_large"


DEPTHS = (64, 900, 1000, 5000, 100_000)
# A stray byte, an overlong "/", an encoded surrogate, a 5-byte form, a lost lead, a cut tail.
INVALID_UTF8 = (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80", b"ab\x80", b"\xe2\x82")
AWKWARD = ("\x00", "a\x00b", "\ud800", "\udfff\ud800", "\u202e\ufeff", "x" * 300, "é" * 200)
NOT_JSON = (
    None,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
)
SLOTS = {
    "trigger": ["data/inputs", "data/metadata", "data/callback_url", "data/page"],
    "action_run": [
        "data/action",
        "data/authentication",
        "data/inputs",
        "data/metadata",
        "data/callback_url",
    ],
    "webhook_create": ["url", "secret", "stored_action_ids", "statuses"],
    "webhook_update": ["url", "secret", "stored_action_ids", "statuses"],
    "callback": ["results", "errors", "status", "type", "next_page", "id"],
}


@pytest.mark.parametrize("name", NAMES)
def test_deep_nesting_is_never_a_5xx(client, endpoints, name):
    endpoint = endpoints[name]
    for opener, closer in ((b"[", b"]"), (b'{"a":', b"}")):
        for depth in DEPTHS:
            response = endpoint.send(client, endpoint.raw(deep=opener * depth + closer * depth))
            _never_5xx(response)
            if depth >= 5000:  # deeper than any parser here recurses: refused as unparseable
                assert _refusal(response, 400)["code"] == "parse_error"


@pytest.mark.parametrize("name", NAMES)
def test_invalid_utf8_is_a_400(client, endpoints, name):
    for raw in INVALID_UTF8:
        response = endpoints[name].send(client, endpoints[name].raw(pad=raw))
        assert _refusal(response, 400)["code"] == "parse_error", raw


@pytest.mark.parametrize("name", NAMES)
def test_awkward_but_valid_json_strings_are_never_a_5xx(client, endpoints, name):
    """Valid JSON all the same: NUL, lone surrogates or long text break storage, not requests."""
    endpoint = endpoints[name]
    assert sorted(endpoint.strings) == sorted(SLOTS[name])  # every string the body can carry
    for slot in SLOTS[name]:
        for text in AWKWARD:
            response = endpoint.send(client, endpoint.with_text(slot, text))
            assert response.status_code < 500, (slot, text[:10], response.get_json())
            if response.status_code >= 400:
                _refusal(response, response.status_code)


@pytest.mark.parametrize("name", NAMES)
def test_a_body_that_is_not_declared_json(client, endpoints, name):
    endpoint = endpoints[name]
    for content_type in NOT_JSON:
        response = endpoint.send(client, endpoint.body(), content_type)
        if endpoint.client_api:  # a browser form cannot drive the client API (no preflight)
            assert _refusal(response, 415)["code"] == "unsupported_media_type", content_type
        else:  # callbacks are read as JSON whatever they declare: losing one costs more
            assert response.status_code == endpoint.ok, content_type
