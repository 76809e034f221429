"""A real threaded HTTP server that records the sandbox's callbacks and answers a set status."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: dict

    @property
    def signature(self) -> str | None:
        return self.headers.get("Zapier-Callback-Signature")


class CallbackReceiver:
    """Answers `status` (200 unless told) to every POST and notifies waiters of each arrival."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[Received] = []
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits up to one interval.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/callback") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def start(self) -> CallbackReceiver:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait_for_count(self, count: int, timeout: float = 10.0) -> list[Received]:
        """At least `count` callbacks, waiting on arrivals; AssertionError after `timeout`."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.received) >= count, timeout)
            assert arrived, f"expected {count} callbacks, got {len(self.received)}"
            return list(self.received)

    def for_path(self, path: str) -> list[Received]:
        with self._changed:
            return [r for r in self.received if r.path == path]

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._changed:
                    receiver.received.append(
                        Received(self.path, dict(self.headers.items()), json.loads(raw))
                    )
                    receiver._changed.notify_all()
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        return Handler
