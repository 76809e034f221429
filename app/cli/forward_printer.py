"""`relay listen`: a small receiver that verifies forwards with standardwebhooks and prints them."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def make_handler(secret: str):
    verifier = Webhook(secret)

    class ForwardHandler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                event = verifier.verify(body, dict(self.headers.items()))
            except WebhookVerificationError as err:
                print(f"REJECTED ({err}) webhook-id={self.headers.get('webhook-id')}", flush=True)
                self.send_response(400)
                self.end_headers()
                return
            print(f"VERIFIED webhook-id={self.headers.get('webhook-id')}", flush=True)
            print(json.dumps(event, indent=2), flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args):
            """Quiet: only verified or rejected forwards are printed."""

    return ForwardHandler


def listen(host: str, port: int, secret: str) -> None:
    server = ThreadingHTTPServer((host, port), make_handler(secret))
    print(f"listening on http://{host}:{port}/ for signed forwards", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        server.server_close()
