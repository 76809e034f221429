"""`relay listen`: a small receiver that verifies forwards with standardwebhooks and prints them.

It stands alone: it reads no relay setting but FORWARD_SECRET, so it runs in any shell.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import (
    EmptyWebhookSecretError,
    Webhook,
    WebhookVerificationError,
)

from app.config.processes import listener_secret
from app.config.settings import SANDBOX_FORWARD_SECRET, ConfigError

KEY_HINT = (
    "pass the target's secret with --secret: a relay's FORWARD_SECRET (FORWARD_URLS and "
    "callback_url targets), or the secret a POST /v1/webhooks answer showed"
)


def verifiers(secrets: list[str]) -> list[Webhook]:
    """One verifier per secret; ConfigError naming --secret for one that is not whsec_..."""
    found = []
    for secret in secrets:
        try:
            if not secret.startswith("whsec_"):
                raise ValueError(secret)
            found.append(Webhook(secret))
        except (ValueError, EmptyWebhookSecretError):
            raise ConfigError(
                "--secret: expected a Standard Webhooks secret, whsec_ and then base64"
            ) from None
    return found


def verify(checks: list[Webhook], body: bytes, headers: dict) -> dict:
    """The event, if any secret's signature matches; the last failure otherwise."""
    failure: WebhookVerificationError | None = None
    for check in checks:
        try:
            return check.verify(body, headers)
        except WebhookVerificationError as err:
            failure = err
    raise failure or WebhookVerificationError("no secret")


def make_handler(checks: list[Webhook]):
    class ForwardHandler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            webhook_id = self.headers.get("webhook-id")
            try:
                event = verify(checks, body, dict(self.headers.items()))
            except WebhookVerificationError as err:
                print(f"REJECTED ({err}) webhook-id={webhook_id}: {KEY_HINT}", flush=True)
                self.send_response(400)
                self.end_headers()
                return
            print(f"VERIFIED webhook-id={webhook_id}", flush=True)
            print(json.dumps(event, indent=2), flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args):
            """Quiet: only verified or rejected forwards are printed."""

    return ForwardHandler


def chosen_secrets(given: list[str] | None) -> tuple[list[str], str]:
    """The secrets to verify with, and a line saying where they come from."""
    if given:
        return given, f"{len(given)} secret(s) from --secret"
    configured = listener_secret(os.environ)
    if configured:
        return [configured], "FORWARD_SECRET"
    return [SANDBOX_FORWARD_SECRET], (
        "the sandbox's fixed forward secret (no --secret, no FORWARD_SECRET): it verifies a "
        f"sandbox-mode relay's FORWARD_URLS and callback_url forwards; for others, {KEY_HINT}"
    )


def listen(host: str, port: int, given: list[str] | None = None) -> int:
    """Serve until Ctrl+C; 2 with one line for a bad secret or a port that is taken."""
    try:
        secrets, source = chosen_secrets(given)
        handler = make_handler(verifiers(secrets))
    except ConfigError as err:
        print(f"relay: configuration error: {err}", file=sys.stderr)
        return 2
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            print(
                f"relay: --port: {host}:{port} is already in use: choose another", file=sys.stderr
            )
        else:
            print(f"relay: --host: cannot listen on {host}:{port}: {err.strerror}", file=sys.stderr)
        return 2
    print(f"listening on http://{host}:{port}/ for signed forwards", flush=True)
    print(f"verifying with {source}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        server.server_close()
    return 0
