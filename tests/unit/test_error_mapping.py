"""Domain exceptions to HTTP: one status per class, bodies in the one error shape."""

import pytest
from flask import Flask
from marshmallow import ValidationError

from app.api import errors as api_errors
from app.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    MalformedBody,
    NotFound,
    Problem,
    RelayError,
    Unauthenticated,
    Unavailable,
    UnsupportedMediaType,
    UpstreamRefusal,
)
from app.sandbox.http_answers import init_error_handlers


def _app(raise_it) -> Flask:
    app = Flask(__name__)
    api_errors.init_app(app)

    @app.get("/boom")
    def boom():
        raise_it()

    return app


def _answer(err: Exception):
    def raise_it():
        raise err

    return _app(raise_it).test_client().get("/boom")


@pytest.mark.parametrize(
    ("cls", "status", "title"),
    [
        (InvalidInput, 400, "Bad Request"),
        (MalformedBody, 400, "Bad Request"),
        (Unauthenticated, 401, "Unauthorized"),
        (Forbidden, 403, "Forbidden"),
        (NotFound, 404, "Not Found"),
        (Conflict, 409, "Conflict"),
        (UnsupportedMediaType, 415, "Unsupported Media Type"),
        (Unavailable, 503, "Service Unavailable"),
        (RelayError, 500, "Internal Server Error"),
    ],
)
def test_each_domain_exception_has_one_status_and_the_one_shape(cls, status, title):
    answer = _answer(cls("some_code", "What went wrong.", pointer="/data/x", meta={"k": 1}))
    assert answer.status_code == status
    assert answer.get_json() == {
        "errors": [
            {
                "status": status,
                "code": "some_code",
                "title": title,
                "detail": "What went wrong.",
                "source": {"pointer": "/data/x"},
                "meta": {"k": 1},
            }
        ]
    }


def test_a_subclass_takes_its_parents_status():
    class NoSuchCursor(InvalidInput):
        pass

    assert api_errors.status_of(NoSuchCursor("invalid", "Unknown cursor.")) == 400


def test_the_body_bytes_are_jsonify_sorted_and_compact():
    answer = _answer(NotFound("not_found", "No such run."))
    assert answer.get_data() == (
        b'{"errors":[{"code":"not_found","detail":"No such run.","meta":{},"source":null,'
        b'"status":404,"title":"Not Found"}]}\n'
    )


def test_extra_headers_and_parameters_are_kept():
    err = Unauthenticated(
        "unauthorized", "Unknown API key.", headers={"WWW-Authenticate": "Bearer"}
    )
    answer = _answer(err)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
    entry = _answer(InvalidInput("invalid", "Bad.", parameter="limit")).get_json()["errors"][0]
    assert entry["source"] == {"parameter": "limit"}


def test_several_problems_make_several_entries():
    err = InvalidInput.from_messages({"data": {"a": ["Missing."], "b": ["Bad.", "Worse."]}})
    entries = _answer(err).get_json()["errors"]
    assert [(e["source"]["pointer"], e["detail"]) for e in entries] == [
        ("/data/a", "Missing."),
        ("/data/b", "Bad. Worse."),
    ]
    assert {e["title"] for e in entries} == {"Invalid field"}
    custom = InvalidInput(problems=[Problem("x", "one"), Problem("y", "two", title="T")])
    assert [e["code"] for e in _answer(custom).get_json()["errors"]] == ["x", "y"]


def test_an_uncaught_validation_error_is_a_400():
    answer = _answer(ValidationError({"limit": ["Not a valid integer."]}))
    assert answer.status_code == 400
    assert answer.get_json()["errors"][0]["source"] == {"pointer": "/limit"}


def test_an_upstream_refusal_passes_upstreams_status_and_errors_through():
    errors = [{"status": 402, "code": "payment_required", "title": "No", "extra": True}]
    answer = _answer(UpstreamRefusal(402, errors))
    assert answer.status_code == 402
    assert answer.get_json() == {"errors": errors}


def test_a_crash_says_nothing_of_itself():
    answer = _answer(RuntimeError("secret detail"))
    assert answer.status_code == 500
    assert answer.get_json()["errors"][0]["code"] == "internal_error"
    assert b"secret" not in answer.get_data()


def test_the_standalone_sandbox_renders_framework_errors_as_the_relay_does():
    relay, sandbox = Flask("relay"), Flask("sandbox")
    api_errors.init_app(relay)
    init_error_handlers(sandbox)
    for app in (relay, sandbox):
        app.add_url_rule("/only-get", "only_get", lambda: "ok")
    for method, path in (("get", "/missing"), ("delete", "/only-get")):
        ours = getattr(relay.test_client(), method)(path)
        theirs = getattr(sandbox.test_client(), method)(path)
        assert ours.status_code == theirs.status_code
        assert ours.get_data() == theirs.get_data()
        assert sorted(ours.headers.get("Allow", "").split(", ")) == sorted(
            theirs.headers.get("Allow", "").split(", ")
        )
