"""Thin blueprints: the client API, the callback receiver, and the operations endpoints."""

from flask import Flask


def init_app(app: Flask, settings) -> None:
    from app.api import action_runs, callbacks, ops, runs, stored_actions, webhooks

    for module in (ops, stored_actions, action_runs, callbacks, runs, webhooks):
        app.register_blueprint(module.bp)
