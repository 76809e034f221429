"""A TCP proxy on loopback whose latency varies: each chunk a client sends is held for a random
time before it goes on, so calls sent together reach the server in another order and spread
over up to `max_delay` seconds, as over a real network. Answers come back at once."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time


class JitterProxy:
    """Forwards every connection to 127.0.0.1:`target_port`, requests delayed by 0..max_delay."""

    def __init__(self, target_port: int, max_delay: float, seed: int | None = None):
        self.target = ("127.0.0.1", target_port)
        self.max_delay = max_delay
        self.rng = random.Random(seed)
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
                client, _ = self.sock.accept()
            except OSError:
                return  # closed
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, delayed: bool) -> None:
        # One thread per direction: a connection's chunks keep their order.
        try:
            while chunk := source.recv(65536):
                if delayed:
                    time.sleep(self.rng.uniform(0.0, self.max_delay))
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            # Either side hanging up ends both directions; each thread closes what it read.
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
            source.close()
