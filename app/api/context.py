"""Accessors the views share: the settings and the lazily built services of the current app."""

from flask import Flask, current_app

from app.bootstrap import LazyServices, Services
from app.config.settings import Settings


def init_app(app: Flask, settings: Settings) -> None:
    app.extensions["relay.settings"] = settings
    app.extensions["relay.services"] = LazyServices(settings)


def settings() -> Settings:
    return current_app.extensions["relay.settings"]


def services() -> Services:
    return current_app.extensions["relay.services"].get()
