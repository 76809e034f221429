"""Thin blueprints: the client API, the callback receiver, and the operations endpoints."""

from flask import Flask


def init_app(app: Flask, settings) -> None:
    from app.api import (
        accounts,
        action_runs,
        auth,
        callbacks,
        deliveries,
        ops,
        runs,
        stored_actions,
        webhooks,
        zap_run_list,
        zap_watches,
    )
    from app.api.bodies import refuse_unstorable_path

    modules = (
        ops,
        stored_actions,
        action_runs,
        callbacks,
        deliveries,
        runs,
        webhooks,
        zap_run_list,
        zap_watches,
        accounts,
    )
    for module in modules:
        app.register_blueprint(module.bp)
    app.before_request(refuse_unstorable_path)
    auth.init_app(app)
