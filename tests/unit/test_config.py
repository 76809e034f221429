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
