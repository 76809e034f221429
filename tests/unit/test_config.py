"""Settings: defaults in sandbox mode, and one clear error naming each bad variable."""

import pytest

from app.config.settings import ConfigError, load_settings

LIVE = {
    "ZAPIER_ACCESS_TOKEN": "tok",
    "PUBLIC_BASE_URL": "https://relay.example.com",
    "RELAY_API_KEYS": "k1,k2",
    "RELAY_SECRET": "0123456789abcdef0123",
}


def test_sandbox_defaults():
    settings = load_settings({})
    assert settings.sandbox and settings.mode == "sandbox"
    assert settings.public_base_url == "http://127.0.0.1:8000"
    assert settings.zapier_api_base == "http://127.0.0.1:8000/sandbox"
    assert settings.forward_retry_schedule == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert settings.database_url.startswith("sqlite:///") and settings.api_open


def test_port_moves_sandbox_urls():
    assert load_settings({"PORT": "8123"}).zapier_api_base == "http://127.0.0.1:8123/sandbox"


def test_live_mode_reads_everything():
    settings = load_settings(LIVE)
    assert settings.mode == "live" and settings.relay_api_keys == ("k1", "k2")
    assert settings.zapier_api_base == "https://api.zapier.com" and not settings.api_open
    assert settings.warnings == ()


@pytest.mark.parametrize("missing", ["PUBLIC_BASE_URL", "RELAY_API_KEYS", "RELAY_SECRET"])
def test_live_mode_requires(missing):
    env = {k: v for k, v in LIVE.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        load_settings(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "eighty"),
        ("CALLBACK_GRACE_SECONDS", "-1"),
        ("FORWARD_RETRY_SCHEDULE", "5,x"),
        ("FORWARD_ALLOW_PRIVATE", "maybe"),
        ("FORWARD_SECRET", "not-a-whsec"),
        ("DATABASE_URL", "mysql://x"),
        ("ZAPIER_API_BASE", "ftp://x"),
        ("MAX_BODY_BYTES", "12"),
        ("ZAPIER_GET_LIMIT", "0"),
        ("RELAY_SECRET", "short"),
        # The first hour of a new user (issue 12): each of these got a traceback, or worse.
        ("DATABASE_URL", "sqlite:relay.db"),
        ("SANDBOX_DATABASE_URL", "sqlite:sandbox.db"),
        ("PORT", "99999"),
        ("PORT", "0"),
        ("WORKER_METRICS_PORT", "70000"),
        ("WEB_CONCURRENCY", "abc"),
        ("WEB_CONCURRENCY", "0"),
        ("WEB_THREADS", "many"),
        ("SANDBOX_CALLBACK_DROP", "abc"),
        ("SANDBOX_V2_CALLBACKS", "maybe"),
        ("FORWARD_URLS", "http://127.0.0.1:9000/;http://127.0.0.1:9001/"),
        ("FORWARD_URLS", "http://127.0.0.1:9000/ http://127.0.0.1:9001/"),
        ("BIND_HOST", "not a host"),
        ("LOG_FORMAT", "xml"),
        ("LOG_LEVEL", "loud"),
        ("CALLBACK_GRACE_SECONDS", "nan"),
    ],
)
def test_malformed_setting_names_the_variable(name, value):
    with pytest.raises(ConfigError) as err:
        load_settings({name: value})
    assert str(err.value).startswith(name)


def test_forward_urls_need_a_secret_in_live_mode():
    with pytest.raises(ConfigError, match="FORWARD_SECRET"):
        load_settings({**LIVE, "FORWARD_URLS": "https://hooks.example.com/a"})


def test_live_mode_warns_about_non_public_callback_url():
    settings = load_settings({**LIVE, "PUBLIC_BASE_URL": "http://10.0.0.5:8000"})
    assert any("PUBLIC_BASE_URL" in w for w in settings.warnings)


def test_cli_start_fails_with_one_line(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "worker"],
        env={
            "PATH": "/usr/bin:/bin",
            "ZAPIER_ACCESS_TOKEN": "t",
            "RELAY_INSTANCE_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "relay: configuration error: PUBLIC_BASE_URL: required in live mode "
        "(the relay's public https URL)"
    ]


@pytest.mark.parametrize(
    "name", ["PUBLIC_BASE_URL", "ZAPIER_API_BASE", "FORWARD_URLS", "ZAPIER_CALLBACK_JWKS_URL"]
)
def test_a_url_with_a_user_or_password_is_refused(name):
    with pytest.raises(ConfigError) as err:
        load_settings({**LIVE, name: "https://user:secret@hooks.example.com/a"})
    assert str(err.value).startswith(f"{name}: ") and "secret" not in str(err.value)


def test_sandbox_mode_listens_on_loopback_and_live_mode_everywhere():
    assert load_settings({}).bind_host == "127.0.0.1"
    assert load_settings(LIVE).bind_host == "0.0.0.0"
    settings = load_settings({"BIND_HOST": "0.0.0.0", "PORT": "8123"})
    assert settings.bind_host == "0.0.0.0"
    assert settings.public_base_url == "http://127.0.0.1:8123"  # still reachable from here
    assert load_settings({"BIND_HOST": "::1"}).public_base_url == "http://[::1]:8000"


def test_web_process_settings_have_defaults():
    settings = load_settings({})
    assert (settings.web_concurrency, settings.web_threads) == (2, 8)
    assert (settings.log_format, settings.log_level) == ("json", "INFO")
    settings = load_settings({"WEB_CONCURRENCY": "3", "LOG_FORMAT": " Text ", "LOG_LEVEL": "debug"})
    assert (settings.web_concurrency, settings.log_format, settings.log_level) == (
        3,
        "text",
        "DEBUG",
    )


def test_a_sqlite_file_in_a_missing_folder_is_refused_never_created(tmp_path):
    missing = tmp_path / "no" / "such"
    with pytest.raises(ConfigError, match=f"DATABASE_URL: the folder {missing} does not exist"):
        load_settings({"DATABASE_URL": f"sqlite:///{missing / 'relay.db'}"})
    assert not (tmp_path / "no").exists()
    # The instance folder is the relay's own: it may be missing (it is made), its parent not.
    instance = tmp_path / "instance"
    assert load_settings({"RELAY_INSTANCE_DIR": str(instance)}).database_url.endswith("relay.db")
    with pytest.raises(ConfigError, match="RELAY_INSTANCE_DIR"):
        load_settings({"RELAY_INSTANCE_DIR": str(missing / "instance")})


def test_sqlite_urls_in_an_existing_folder_pass(tmp_path):
    url = f"sqlite:///{tmp_path / 'relay.db'}"
    assert load_settings({"DATABASE_URL": url}).database_url == url
    assert (
        load_settings({"DATABASE_URL": "sqlite:///relay.db"}).database_url == "sqlite:///relay.db"
    )


def test_a_bad_sandbox_knob_is_a_config_error_naming_it():
    with pytest.raises(ConfigError, match=r"^SANDBOX_CALLBACK_DROP: expected a number between"):
        load_settings({"SANDBOX_CALLBACK_DROP": "often"})
