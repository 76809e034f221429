"""CALLBACKS (auto, on, off): resolved once at start, with its reason, warning and banner row."""

import subprocess
import sys

import pytest

from app.cli.banner import banner
from app.config.settings import ConfigError, load_settings
from app.runs.states import RunKind
from app.runs.submission import calls_back

LIVE = {
    "ZAPIER_ACCESS_TOKEN": "tok",
    "PUBLIC_BASE_URL": "https://relay.example.com",
    "RELAY_API_KEYS": "k1",
    "RELAY_SECRET": "0123456789abcdef0123",
}
NOT_PUBLIC = [
    "http://relay.example.com",  # not https
    "http://127.0.0.1:8000",
    "https://localhost:8443",
    "https://relay.internal",
    "https://10.0.0.5",
    "https://192.168.1.20:8443",
    "https://[::1]:8443",
]
STORED = {"kind": RunKind.STORED_ACTION}
V2 = {"kind": RunKind.ACTION_RUN}


def live(**env) -> dict:
    return {**LIVE, **env}


@pytest.mark.parametrize("setting", [None, "auto", " AUTO "])
def test_auto_with_a_public_https_url_sends_callbacks(setting):
    env = live() if setting is None else live(CALLBACKS=setting)
    settings = load_settings(env)
    assert (settings.callbacks, settings.callbacks_reason) == (
        "on",
        "auto: PUBLIC_BASE_URL is public https",
    )
    assert settings.warnings == ()
    assert calls_back(STORED, settings)


@pytest.mark.parametrize("url", NOT_PUBLIC)
@pytest.mark.parametrize("setting", [None, "auto"])
def test_auto_with_a_url_zapier_refuses_polls_only(url, setting):
    env = (
        live(PUBLIC_BASE_URL=url)
        if setting is None
        else live(PUBLIC_BASE_URL=url, CALLBACKS=setting)
    )
    settings = load_settings(env)
    assert (settings.callbacks, settings.callbacks_reason) == (
        "off",
        "auto: PUBLIC_BASE_URL is not public https",
    )
    assert settings.warnings == (
        "PUBLIC_BASE_URL is not a public https URL (Zapier refuses such callback URLs with a "
        "400): polling only under CALLBACKS=auto; CALLBACKS=on sends them anyway",
    )
    assert not calls_back(STORED, settings)
    assert not calls_back(V2, load_settings({**env, "V2_CALLBACKS": "true"}))


def test_on_sends_callbacks_to_any_url_and_keeps_the_warning():
    settings = load_settings(live(PUBLIC_BASE_URL="http://10.0.0.5:8000", CALLBACKS="on"))
    assert (settings.callbacks, settings.callbacks_reason) == ("on", "CALLBACKS=on")
    assert settings.warnings == (
        "PUBLIC_BASE_URL is not a public https URL: Zapier refuses such callback URLs (400)",
    )
    assert calls_back(STORED, settings)
    assert not calls_back(V2, settings)  # v2 action runs still need V2_CALLBACKS
    with_v2 = load_settings(live(CALLBACKS="on", V2_CALLBACKS="true"))
    assert calls_back(V2, with_v2) and with_v2.warnings == ()


def test_off_never_sends_callbacks_and_needs_no_warning():
    settings = load_settings(live(CALLBACKS="off", V2_CALLBACKS="true"))
    assert (settings.callbacks, settings.callbacks_reason) == ("off", "CALLBACKS=off")
    assert settings.warnings == ()
    assert not calls_back(STORED, settings) and not calls_back(V2, settings)


def test_sandbox_mode_keeps_callbacks_on_and_honours_an_explicit_off():
    for env in ({}, {"CALLBACKS": "auto"}):
        settings = load_settings(env)  # PUBLIC_BASE_URL is http://127.0.0.1:8000 here
        assert (settings.callbacks, settings.callbacks_reason) == ("on", "auto: sandbox mode")
        assert settings.warnings == () and calls_back(STORED, settings)
    settings = load_settings({"CALLBACKS": "off"})
    assert (settings.callbacks, settings.callbacks_reason) == ("off", "CALLBACKS=off")
    assert not calls_back(STORED, settings)


@pytest.mark.parametrize("value", ["maybe", "true", "1", "polling"])
def test_an_unknown_value_names_the_variable(value):
    for env in ({"CALLBACKS": value}, live(CALLBACKS=value)):
        with pytest.raises(ConfigError) as err:
            load_settings(env)
        assert str(err.value) == f"CALLBACKS: expected auto, on or off, got {value!r}"


def test_an_unknown_value_stops_the_start_with_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "worker"],
        env={"PATH": "/usr/bin:/bin", "CALLBACKS": "maybe", "RELAY_INSTANCE_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "relay: configuration error: CALLBACKS: expected auto, on or off, got 'maybe'"
    ]


def test_the_banner_says_which_callback_mode_is_in_force_and_why():
    text = banner(load_settings(live(PUBLIC_BASE_URL="http://127.0.0.1:8000")), "w")
    rows = {line.split()[0]: line for line in text.splitlines()[1:]}
    assert rows["callbacks"] == (
        "  callbacks  off (auto: PUBLIC_BASE_URL is not public https): polling only"
    )
    assert "polling only under CALLBACKS=auto" in rows["warning"]
    text = banner(load_settings(live()), "w")
    assert "  callbacks  on (auto: PUBLIC_BASE_URL is public https): " in text
    assert "on (auto: sandbox mode)" in banner(load_settings({}), "w")
