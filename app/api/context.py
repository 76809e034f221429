"""Accessors the views share: the settings and services of the current app."""

from flask import current_app

from app.config import Settings
from app.services import Services, get_services


def settings() -> Settings:
    return current_app.extensions["relay.settings"]


def services() -> Services:
    return get_services()
