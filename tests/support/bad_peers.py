"""Subscribers that misbehave on purpose: a black hole, a slow answerer and a dripper.

Each records every request it sees (webhook-id, when it began and ended), so a test can ask
whether two sends of one event ever overlapped.
"""

from __future__ import annotations

import select
import socket
import threading
import time


class LoopbackServer:
    """A TCP server on loopback that hands each connection to `_handle` in its own thread."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def close(self) -> None:
        self.stop.set()
        self.sock.close()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        raise NotImplementedError


class Peer(LoopbackServer):
    """A subscriber; `serve_connection` is what the peer does with each request."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.sends: list[dict] = []  # {"webhook_id", "began", "ended"}
        super().__init__()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            webhook_id = read_webhook_id(conn)
            record = {"webhook_id": webhook_id, "began": time.time(), "ended": None}
            with self.lock:
                self.sends.append(record)
                self.lock.notify_all()
            try:
                self.serve_connection(conn, len(self.sends))
            except OSError:
                pass  # the relay hung up: its deadline
            finally:
                with self.lock:
                    record["ended"] = time.time()
                    self.lock.notify_all()

    def serve_connection(self, conn: socket.socket, number: int) -> None:
        raise NotImplementedError

    def wait_for(self, predicate, timeout: float) -> bool:
        with self.lock:
            return self.lock.wait_for(lambda: predicate(self.sends), timeout)

    def max_overlap(self) -> int:
        """The most sends of one webhook-id ever open at the same moment."""
        worst = 0
        with self.lock:
            for send in self.sends:
                began = send["began"]
                same = [
                    s
                    for s in self.sends
                    if s["webhook_id"] == send["webhook_id"]
                    and s["began"] <= began
                    and (s["ended"] is None or s["ended"] > began)
                ]
                worst = max(worst, len(same))
        return worst


def hung_up(conn: socket.socket, seconds: float) -> bool:
    """Wait up to `seconds`, reading and dropping what the relay still sends (the body); True
    as soon as the relay closes its end (a send cut short)."""
    ends = time.monotonic() + seconds
    while True:
        left = ends - time.monotonic()
        if left <= 0:
            return False
        readable, _, _ = select.select([conn], [], [], left)
        if not readable:
            return False
        try:
            if conn.recv(65536) == b"":
                return True
        except OSError:
            return True


def read_webhook_id(conn: socket.socket) -> str | None:
    """Read the request head and return its webhook-id header (the body is not needed)."""
    conn.settimeout(10)
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        head += chunk
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "webhook-id":
            return value.strip()
    return None


class BlackHole(Peer):
    """Accepts the connection, reads the request, never answers."""

    def serve_connection(self, conn, number):
        while not self.stop.is_set() and not hung_up(conn, 0.2):
            pass


class SlowAnswer(Peer):
    """Answers 204 after `delay` seconds (a list: per request number, the last repeats)."""

    def __init__(self, delays: list[float]):
        self.delays = delays
        super().__init__()

    def serve_connection(self, conn, number):
        delay = self.delays[min(number, len(self.delays)) - 1]
        ends = time.monotonic() + delay
        while time.monotonic() < ends:
            if self.stop.is_set() or hung_up(conn, min(0.2, max(0.0, ends - time.monotonic()))):
                return
        conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


class Dripper(Peer):
    """Sends a 204's status line and headers one byte every `interval` seconds."""

    def __init__(self, interval: float):
        self.interval = interval
        super().__init__()

    def serve_connection(self, conn, number):
        answer = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        for byte in answer:
            if self.stop.is_set() or hung_up(conn, self.interval):
                return
            conn.sendall(bytes([byte]))
