"""The threads behind `aggregator serve` (serve.py): one per connection, at most so many,
each connection dropped after so long a silence, and the refusal of one too many.
Must NOT answer a request itself (serve.py's handler does), but the 503 of one too many.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["IDLE_TIMEOUT", "MAX_CONNECTIONS", "SiteServer"]

log = logging.getLogger("aggregator.serve")

IDLE_TIMEOUT = 20.0  # seconds a connection may stay silent, reading or writing
MAX_CONNECTIONS = 256  # connections served at once, one thread each; more get a 503


class SiteServer(ThreadingHTTPServer):
    """A thread per connection, at most `max_connections` of them, each dropped after
    `idle_timeout` seconds of silence."""

    daemon_threads = True
    # http.server's default backlog of 5 drops the SYNs of a burst of visitors; the
    # kernel caps this at net.core.somaxconn.
    request_queue_size = max(128, socket.SOMAXCONN)

    def __init__(
        self,
        address: tuple[str, int],
        handler: Callable[..., BaseHTTPRequestHandler],
        *,
        idle_timeout: float = IDLE_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request, client_address)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()  # no thread started to release it
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket, client_address: Any) -> None:
        # Answered on the accepting thread, so it must not wait: a short reply fits in
        # a new socket's empty send buffer.
        log.warning("%s refused: %d connections open", client_address[0], self.max_connections)
        with contextlib.suppress(OSError):
            request.setblocking(False)
            request.send(
                b"HTTP/1.0 503 Service Unavailable\r\nRetry-After: 1\r\n"
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
        self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up or stalls mid-response is the network, not a bug: one
        # line. Anything else is a bug and keeps its traceback.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            log.info("%s dropped: %s", client_address[0], error)
            return
        super().handle_error(request, client_address)
