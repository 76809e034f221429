"""The factory's settings and services for console views, read from the app's extensions:
the console may not import app.api, whose context module puts them there."""

from __future__ import annotations

from flask import current_app

from app.bootstrap import Services
from app.config.settings import Settings

SETTINGS_KEY = "relay.settings"
SERVICES_KEY = "relay.services"
THROTTLE_KEY = "relay.key_throttle"  # the client API's wrong-key throttle, shared on purpose


def settings() -> Settings:
    return current_app.extensions[SETTINGS_KEY]


def services() -> Services:
    return current_app.extensions[SERVICES_KEY].get()


def key_throttle():
    """One budget of wrong keys per address, whether guessed at the API or at the sign-in."""
    return current_app.extensions[THROTTLE_KEY]
