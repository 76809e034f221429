"""The one HTTP receiver of tests and bench: relay forwards (verified) and sandbox callbacks."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class BurstServer(ThreadingHTTPServer):
    # A class attribute: listen() reads it in the constructor (the bench's bursts of connects).
    request_queue_size = 1024


class Receiver:
    """Answers each POST with the next scripted status (else `status`) and records it.

    With a `secret`, every request must carry a valid Standard Webhooks signature: one that
    does not is answered 400 and noted in `rejected`, never recorded. Without one (the
    sandbox's callbacks), everything is recorded. A record is a dict: status, path, headers,
    body (parsed JSON), at (arrival time), webhook_id and signature (Zapier-Callback-Signature).
    """

    def __init__(self, secret: str | None = None, status: int = 204):
        self.status = status
        self.script: list[int] = []
        self.received: list[dict] = []
        self.rejected: list[str] = []
        self.changed = threading.Condition()
        self.verifier = Webhook(secret) if secret else None
        self.server = BurstServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        # A short poll interval: shutdown() waits up to one interval.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return self.url_for("/hook")

    def url_for(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def use_secret(self, secret: str) -> None:
        """Verify from now on with `secret` (a subscription's own, known once it is created)."""
        with self.changed:
            self.verifier = Webhook(secret)

    def wait_for(self, predicate, timeout: float = 30.0) -> bool:
        """Whether `predicate(received)` came true within `timeout`, woken at each arrival."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self.received), timeout=timeout)

    def wait_for_count(self, count: int, timeout: float = 30.0) -> bool:
        return self.wait_for(lambda got: len(got) >= count, timeout)

    def expect_count(self, count: int, timeout: float = 10.0) -> list[dict]:
        """At least `count` records, waiting on arrivals; AssertionError after `timeout`."""
        assert self.wait_for_count(count, timeout), f"expected {count}, got {self.count()}"
        with self.changed:
            return list(self.received)

    def count(self) -> int:
        with self.changed:
            return len(self.received)

    def for_path(self, path: str) -> list[dict]:
        with self.changed:
            return [r for r in self.received if r["path"] == path]

    def by_run(self) -> dict[str, list[dict]]:
        """Forwards grouped by the relay run id they report."""
        grouped: dict[str, list[dict]] = {}
        with self.changed:
            for record in self.received:
                grouped.setdefault(record["body"]["data"]["run_id"], []).append(record)
        return grouped

    def duplicates(self) -> dict:
        """Forwards beyond the first per run, and distinct webhook-ids per run beyond one."""
        extra_sends = extra_ids = 0
        for records in self.by_run().values():
            extra_sends += len(records) - 1
            extra_ids += len({r["webhook_id"] for r in records}) - 1
        return {"resent_same_id": extra_sends - extra_ids, "distinct_ids_per_run": extra_ids}

    def _record(self, path: str, headers: dict[str, str], body: bytes, at: float) -> int:
        """The status to answer; verified and parsed outside the lock, so arrivals overlap."""
        verifier, problem, data = self.verifier, None, None
        try:
            if verifier is not None:
                verifier.verify(body, headers)
            data = json.loads(body)
        except WebhookVerificationError as err:
            problem = str(err)
        with self.changed:
            status = self.script.pop(0) if self.script else self.status
            if problem is not None:
                self.rejected.append(problem)
                status = 400
            else:
                record = {"status": status, "path": path, "headers": headers, "body": data}
                record |= {"at": at, "webhook_id": headers.get("webhook-id")}
                record["signature"] = headers.get("Zapier-Callback-Signature")
                self.received.append(record)
            self.changed.notify_all()
        return status

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                arrived = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver._record(self.path, dict(self.headers.items()), body, arrived)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        return Handler
