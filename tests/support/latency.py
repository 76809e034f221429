"""A TCP proxy on loopback whose latency varies: each chunk a client sends is held for a random
time before it goes on, so calls sent together reach the server in another order and spread
over up to `max_delay` seconds, as over a real network. Answers come back at once."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time

from tests.support.bad_peers import LoopbackServer


class JitterProxy(LoopbackServer):
    """Forwards every connection to 127.0.0.1:`target_port`, requests delayed by
    min_delay..max_delay."""

    def __init__(
        self, target_port: int, max_delay: float, seed: int | None = None, min_delay: float = 0.0
    ):
        self.target = ("127.0.0.1", target_port)
        self.min_delay, self.max_delay = min_delay, max_delay
        self.rng = random.Random(seed)
        super().__init__()

    def _handle(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.target)
        except OSError:
            client.close()
            return
        threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
        self._pipe(server, client, False)

    def _pipe(self, source: socket.socket, sink: socket.socket, delayed: bool) -> None:
        # One thread per direction: a connection's chunks keep their order.
        try:
            while chunk := source.recv(65536):
                if delayed:
                    time.sleep(self.rng.uniform(self.min_delay, self.max_delay))
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            # Either side hanging up ends both directions; each thread closes what it read.
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
            source.close()
