"""Log lines: JSON fields, the run id while a run is handled, masked secrets, LOG_FORMAT."""

import io
import json
import logging

import pytest

from app.config.settings import ConfigError
from app.observability.logs import build_handler, gunicorn_logconfig, log_format
from app.observability.run_context import bind_run_id, run_log_scope

RUN_ID = "0b7c6a8e-1f8e-4c55-9a57-3d2b1c0e9f11"


@pytest.fixture
def lines():
    """Records of the `relay.test` logger through the real handler; the lines it wrote."""
    stream = io.StringIO()
    logger = logging.getLogger("relay.test")
    logger.setLevel(logging.INFO)
    handlers = {fmt: build_handler(fmt, stream) for fmt in ("json", "text")}
    logger.addHandler(handlers["json"])
    yield logger, handlers, lambda: stream.getvalue().splitlines()
    for handler in handlers.values():
        logger.removeHandler(handler)


@run_log_scope
def _handle_one_run(logger):
    logger.info("before the claim")
    bind_run_id(RUN_ID)
    logger.info("run %s claimed", RUN_ID)


def test_json_lines_carry_the_fields_and_the_run_id_only_inside_its_scope(lines):
    logger, _, written = lines
    _handle_one_run(logger)
    logger.info("after the run")
    before, claimed, after = (json.loads(line) for line in written())
    assert claimed["run_id"] == RUN_ID and claimed["message"] == f"run {RUN_ID} claimed"
    assert {"timestamp", "level", "logger", "message", "process"} <= set(claimed)
    assert claimed["level"] == "INFO" and claimed["logger"] == "relay.test"
    assert "run_id" not in before and "run_id" not in after


def test_exceptions_stay_on_one_json_line(lines):
    logger, _, written = lines
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    (line,) = written()
    assert "ValueError: boom" in json.loads(line)["exc_info"]


@run_log_scope
def _fail_on_one_run():
    bind_run_id(RUN_ID)
    raise RuntimeError("database went away")


def test_an_error_logged_after_the_runs_scope_still_names_the_run(lines):
    logger, _, written = lines
    try:
        _fail_on_one_run()
    except RuntimeError:
        logger.exception("unexpected error in a task")  # as the worker loop does
    logger.info("next pass")
    failed, after = (json.loads(line) for line in written())
    assert failed["run_id"] == RUN_ID and "database went away" in failed["exc_info"]
    assert "run_id" not in after


def test_text_lines_end_with_the_run_id(lines):
    logger, handlers, written = lines
    logger.removeHandler(handlers["json"])
    logger.addHandler(handlers["text"])
    _handle_one_run(logger)
    assert written()[1].endswith(f"relay.test run {RUN_ID} claimed run_id={RUN_ID}")
    assert "run_id=" not in written()[0]


def test_secret_values_and_shapes_are_masked_and_the_line_stays_json(monkeypatch):
    logger = logging.getLogger("relay.test.secrets")
    logger.setLevel(logging.INFO)
    monkeypatch.setenv("RELAY_SECRET", "relay-secret-under-test-42")
    monkeypatch.setenv("RELAY_API_KEYS", "key-one-0123456789,key-two-0123456789")
    handler = build_handler("json", io.StringIO())  # reads the environment when it is built
    logger.addHandler(handler)
    try:
        logger.info(
            "secret %s key %s hook %s path %s auth %s",
            "relay-secret-under-test-42",
            "key-two-0123456789",
            "whsec_c2VjcmV0LXNlY3JldA==",
            "/callbacks/run-1/AbC-dEf_0123456789abcdef",
            "Bearer key-zzz",
        )
        line = json.loads(handler.stream.getvalue())["message"]
    finally:
        logger.removeHandler(handler)
    assert line == (
        "secret [redacted] key [redacted] hook [redacted] "
        "path /callbacks/run-1/[redacted] auth Bearer [redacted]"
    )


def test_log_format_defaults_to_json_and_names_a_bad_value():
    assert log_format({}) == "json" and log_format({"LOG_FORMAT": " Text "}) == "text"
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        log_format({"LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        gunicorn_logconfig({"LOG_LEVEL": "loud"})


def test_gunicorn_config_sends_its_logs_and_the_apps_through_one_handler():
    config = gunicorn_logconfig({"LOG_FORMAT": "json", "LOG_LEVEL": "debug"})
    assert config["root"] == {"level": "DEBUG", "handlers": ["stdout"]}
    for name in ("gunicorn.error", "gunicorn.access"):
        assert config["loggers"][name]["handlers"] == ["stdout"]
    assert config["handlers"]["stdout"]["filters"] == ["run_id"]
