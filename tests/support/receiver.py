"""A real HTTP receiver for forwards that verifies Standard Webhooks signatures and records them."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    """Answers with the next scripted status (default 204) and keeps what it received."""

    def __init__(self, secret: str):
        self.verifier = Webhook(secret)
        self.received: list[dict] = []
        self.rejected: list[str] = []
        self.script: list[int] = []
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def wait_for(self, predicate, timeout: float = 30.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self.received), timeout=timeout)

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = dict(self.headers.items())
                with receiver.changed:
                    status = receiver.script.pop(0) if receiver.script else 204
                    try:
                        receiver.verifier.verify(body, headers)
                    except WebhookVerificationError as err:
                        receiver.rejected.append(str(err))
                        status = 400
                    else:
                        receiver.received.append(
                            {
                                "status": status,
                                "webhook_id": headers.get("webhook-id"),
                                "path": self.path,
                                "body": json.loads(body),
                            }
                        )
                    receiver.changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        return Handler
