"""A subscriber for forwards: verifies each Standard Webhooks signature, notes when it arrived."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.config.settings import SANDBOX_FORWARD_SECRET


class TimedReceiver:
    """Answers 204 to every verified forward and keeps (arrival time, webhook-id, body data)."""

    def __init__(self, secret: str = SANDBOX_FORWARD_SECRET):
        self.verifier = Webhook(secret)
        self.arrivals: list[dict] = []
        self.rejected = 0
        self.changed = threading.Condition()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def count(self) -> int:
        with self.changed:
            return len(self.arrivals)

    def wait_for_count(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.arrivals) >= count, timeout=timeout)

    def by_run(self) -> dict[str, list[dict]]:
        """Arrivals grouped by the relay run id they report."""
        grouped: dict[str, list[dict]] = {}
        with self.changed:
            for arrival in self.arrivals:
                grouped.setdefault(arrival["run_id"], []).append(arrival)
        return grouped

    def duplicates(self) -> dict:
        """Forwards beyond the first per run, and distinct webhook-ids per run beyond one."""
        extra_sends = extra_ids = 0
        for arrivals in self.by_run().values():
            extra_sends += len(arrivals) - 1
            extra_ids += len({a["webhook_id"] for a in arrivals}) - 1
        return {"resent_same_id": extra_sends - extra_ids, "distinct_ids_per_run": extra_ids}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                arrived = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    receiver.verifier.verify(body, dict(self.headers.items()))
                except WebhookVerificationError:
                    status = 400
                    with receiver.changed:
                        receiver.rejected += 1
                else:
                    status = 204
                    data = json.loads(body)["data"]
                    arrival = {
                        "at": arrived,
                        "webhook_id": self.headers.get("webhook-id"),
                        "run_id": data["run_id"],
                        "source": data.get("source"),
                    }
                    with receiver.changed:
                        receiver.arrivals.append(arrival)
                        receiver.changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        return Handler
