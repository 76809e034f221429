"""Security fixtures: a live-mode app whose every secret is distinct and greppable."""

from __future__ import annotations

import base64

import pytest

from app import create_app
from tests.conftest import API_KEY

UPSTREAM_TOKEN = "zat-upstream-token-7d41c9e2b5"
FORWARD_SECRET = "whsec_" + base64.b64encode(b"security-forward-secret-00001").decode()


def build_client(env: dict):
    """An app and its authenticated test client, with its services built."""
    app = create_app(env)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {API_KEY}"
    with app.app_context():
        from app.api.context import services as get_services

        services = get_services()
    return app, client, services


@pytest.fixture
def secure_env(relay_env) -> dict:
    return {**relay_env, "ZAPIER_ACCESS_TOKEN": UPSTREAM_TOKEN, "FORWARD_SECRET": FORWARD_SECRET}


@pytest.fixture
def guarded(relay_env):
    """Live defaults: the SSRF guard on (FORWARD_ALLOW_PRIVATE unset)."""
    env = {k: v for k, v in relay_env.items() if k != "FORWARD_ALLOW_PRIVATE"}
    _app, client, services = build_client(env)
    yield client, services
    services.close()
