"""Start-up pieces of the first hour (issue 12): the install, the banner, the quiet access log."""

from __future__ import annotations

import logging
import socket
import warnings
from pathlib import Path

import pytest

from app.cli.banner import banner
from app.cli.startup import database_problem, port_problem
from app.config.settings import load_settings
from app.observability.logs import SandboxAccess, gunicorn_logconfig

ROOT = Path(__file__).resolve().parents[2]


def test_an_editable_install_warns_nothing(monkeypatch, tmp_path):
    """pip shows every UserWarning of the build backend as a BuildBackendWarning. setuptools
    warns when it must install a flat layout through its meta path finder; a package-dir of
    "." lets it use a plain .pth file instead, as pip would pick it here."""
    editable_wheel = pytest.importorskip("setuptools.command.editable_wheel")
    from setuptools.dist import Distribution

    monkeypatch.chdir(ROOT)
    dist = Distribution()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # older setuptools call [tool.setuptools] "beta"
        dist.parse_config_files()
    command = editable_wheel.editable_wheel(dist)
    command.ensure_finalized()
    strategy = command._select_strategy("callback_relay", "py3-none-any", str(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with strategy:
            pass
    assert [str(w.message) for w in caught if issubclass(w.category, UserWarning)] == []


def _access(path: str) -> logging.LogRecord:
    return logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "line", (), None)


@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
def test_the_sandboxs_own_calls_are_quiet_unless_debug(level, shown):
    config = gunicorn_logconfig({"LOG_LEVEL": level})
    assert "sandbox_access" in config["loggers"]["gunicorn.access"]["filters"]
    logging.getLogger(SandboxAccess.LOGGER).setLevel(
        config["loggers"][SandboxAccess.LOGGER]["level"]
    )
    try:
        record = _access("/sandbox/actions/v1/stored-actions/x/run")
        record.path = "/sandbox/actions/v1/stored-actions/x/run"
        assert SandboxAccess().filter(record) is shown
        assert (record.name, record.levelname) == (SandboxAccess.LOGGER, "DEBUG")
        for path in ("/actions/v1/stored-actions/x/run", "/sandboxes", None):
            record = _access(path)
            record.path = path
            assert SandboxAccess().filter(record) is True and record.name == "gunicorn.access"
    finally:
        logging.getLogger(SandboxAccess.LOGGER).setLevel(logging.NOTSET)


def test_the_banner_says_url_mode_database_worker_and_next_step():
    text = banner(load_settings({"PORT": "8123"}), "relay worker (pid 7)")
    lines = text.splitlines()
    assert lines[0] == "Callback Relay is running at http://127.0.0.1:8123 in SANDBOX MODE"
    labels = [line.split()[0] for line in lines[1:]]
    assert labels == ["mode", "callbacks", "database", "web", "worker", "next"]
    assert "built-in simulator at http://127.0.0.1:8123/sandbox" in text
    assert "open to anyone (no RELAY_API_KEYS)" in text
    assert "relay listen --port 9000" in text


def test_the_banner_never_shows_a_database_password():
    live = {
        "ZAPIER_ACCESS_TOKEN": "t",
        "PUBLIC_BASE_URL": "https://relay.example.com",
        "RELAY_API_KEYS": "k",
        "RELAY_SECRET": "0123456789abcdef0123",
        "DATABASE_URL": "postgresql://relay:hunter2@db.internal:5432/relay",
    }
    text = banner(load_settings(live), "not started")
    assert "hunter2" not in text and "postgresql://relay:***@db.internal:5432/relay" in text
    assert "LIVE MODE" in text and "readyz" in text


class _Driver(Exception):
    pass


def test_an_unreachable_database_is_named_with_its_address_and_reason():
    err = Exception("wrapped")
    err.orig = _Driver(
        'connection failed: connection to server at "10.1.2.3", port 5433 failed: '
        "Connection refused\n\tIs the server running on that host?"
    )
    url = "postgresql://relay:pw@10.1.2.3:5433/relay"
    assert database_problem(url, err) == (
        "DATABASE_URL: cannot reach the database at 10.1.2.3:5433: Connection refused"
    )


def test_a_port_in_use_is_named():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert port_problem("127.0.0.1", port) == (
            f"PORT: 127.0.0.1:{port} is already in use (another relay?); choose another PORT"
        )
    assert port_problem("127.0.0.1", port) is None
