"""The ingest baseline: a bare Flask app that reads a callback's body and answers 204."""

from __future__ import annotations

from flask import Flask, request


def create_app() -> Flask:
    """Served by gunicorn with the relay's own deploy/gunicorn.conf.py, like the relay."""
    app = Flask(__name__)

    @app.post("/callbacks/<run_id>/<token>")
    def callback(run_id: str, token: str):
        request.get_data()
        return "", 204

    @app.get("/healthz")
    def healthz():
        return "", 204

    return app
