"""Accounts without a database: the key setting, the log mask, the schemas of ids and tokens."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from app.config.settings import ConfigError, load_settings
from app.errors import InvalidInput
from app.observability.logs import MASK, SecretMask, known_secrets, remember_secret
from app.schemas.accounts import AccountCreate, AccountUpdate
from app.schemas.loading import load_value


def test_encryption_keys_are_optional_and_read_in_order():
    assert load_settings({}).relay_encryption_keys == ()
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys = load_settings({"RELAY_ENCRYPTION_KEYS": f" {first} , {second} "})
    assert keys.relay_encryption_keys == (first, second)
    assert first not in repr(keys)  # never in a repr that a traceback could print


@pytest.mark.parametrize("raw", ["not-a-key", "c2hvcnQ=", f"{Fernet.generate_key().decode()},x"])
def test_a_malformed_encryption_key_names_the_setting_not_the_value(raw):
    with pytest.raises(ConfigError) as err:
        load_settings({"RELAY_ENCRYPTION_KEYS": raw})
    message = str(err.value)
    assert message.startswith("RELAY_ENCRYPTION_KEYS: key ") and "\n" not in message
    assert raw.split(",")[-1] not in message


def test_a_malformed_encryption_key_stops_the_start_with_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "worker"],
        env={
            "PATH": "/usr/bin:/bin",
            "RELAY_INSTANCE_DIR": str(tmp_path),
            "RELAY_ENCRYPTION_KEYS": "oops",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("relay: configuration error: RELAY_ENCRYPTION_KEYS: key 1 is not")


def test_encryption_keys_and_learned_tokens_are_masked():
    key = Fernet.generate_key().decode()
    mask = SecretMask(known_secrets({"RELAY_ENCRYPTION_KEYS": f"{key},{key}"}))
    assert mask(f"keys {key}") == f"keys {MASK}"
    token = "learned-account-token-42"
    assert token in mask(f"token {token}")
    remember_secret(token)
    assert mask(f'{{"m": "token {token}"}}') == f'{{"m": "token {MASK}"}}'
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    assert mask(f"white-label {jwt} used") == f"white-label {MASK} used"


def test_account_bodies():
    good = load_value(AccountCreate(), {"id": "acme-1_a", "token": "t0ken-value"})
    assert good == {"id": "acme-1_a", "token": "t0ken-value"}
    for bad in ({"id": "-acme"}, {"id": "a" * 65}, {"token": "short"}, {"token": "has space!"}):
        with pytest.raises(InvalidInput) as err:
            load_value(AccountCreate(), {"id": "acme", "token": "t0ken-value", **bad})
        assert "t0ken" not in str(err.value.problems)
    overrides = {"budget_overrides": {"get": 3000.0, "run": 1000}}
    assert load_value(AccountUpdate(), overrides) == {
        "budget_overrides": {"get": 3000, "run": 1000}
    }
    for bad in ({"get": 0}, {"run": True}, {"post": 1}, {"get": "5"}):
        with pytest.raises(InvalidInput):
            load_value(AccountUpdate(), {"budget_overrides": bad})
    assert load_value(AccountUpdate(), {"budget_overrides": None}) == {"budget_overrides": None}
    assert "token" not in AccountCreate().dump({"id": "x", "token": "secret-value"})
