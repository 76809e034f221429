"""Security fixtures: a live-mode app whose every secret is distinct and greppable."""

from __future__ import annotations

import base64

import pytest

UPSTREAM_TOKEN = "zat-upstream-token-7d41c9e2b5"
FORWARD_SECRET = "whsec_" + base64.b64encode(b"security-forward-secret-00001").decode()


# make_app() overrides: the upstream token and forward secret, each distinct and greppable.
SECURE = {"ZAPIER_ACCESS_TOKEN": UPSTREAM_TOKEN, "FORWARD_SECRET": FORWARD_SECRET}


@pytest.fixture
def guarded(make_app):
    """Live defaults: the SSRF guard on (FORWARD_ALLOW_PRIVATE unset)."""
    return make_app(dropped=("FORWARD_ALLOW_PRIVATE",))
