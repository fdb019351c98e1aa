"""The status server's HTTP plumbing, hardened for a network the operator does not control:
a cap on connections served at once, and a deadline for each request's head and body.

`http.server` gives each connection a thread and a timeout per read only: a client that
sends one header line every few seconds (slowloris) would keep its thread for ever, and
hundreds of them would leave the process no threads to start. Here a connection past
`MAX_CONNECTIONS` is closed at once (one rate-limited line), and a request must arrive
whole within `REQUEST_DEADLINE_S`; the show's own threads are never short.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from installation.controls.listening import Quiet

MAX_CONNECTIONS = 32  # served at once (the console's event streams among them)
REQUEST_DEADLINE_S = 10.0  # a request's head and body must arrive within this, s


class HttpServer(Quiet, ThreadingHTTPServer):
    """A threading HTTP server serving at most `MAX_CONNECTIONS` at once; a request that
    raises is a rate-limited line (`Quiet`)."""

    label = "status"
    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.faults.warning("status full", f"status: {MAX_CONNECTIONS} connections "
                                f"open; one from {client_address[0]} closed")
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # the thread did not start: its slot is free again
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class Deadline:
    """A request's input (`rfile`) that must be read within a deadline: each read may wait
    only for the time left, and none is allowed after it (TimeoutError)."""

    def __init__(self, rfile: Any, connection: socket.socket, seconds: float) -> None:
        self._rfile, self._connection, self._seconds = rfile, connection, seconds
        self._deadline = time.monotonic() + seconds

    def _within(self, read: Any, size: int) -> bytes:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request did not arrive in time")
        self._connection.settimeout(left)
        try:
            return bytes(read(size))
        finally:  # the answer's writes get the whole timeout again
            self._connection.settimeout(self._seconds)

    def readline(self, size: int = -1) -> bytes:
        return self._within(self._rfile.readline, size)

    def read(self, size: int = -1) -> bytes:
        return self._within(self._rfile.read, size)

    def __getattr__(self, name: str) -> Any:  # close() and the rest: the file's own
        return getattr(self._rfile, name)


class DeadlineHandler(BaseHTTPRequestHandler):
    """A request handler whose request must arrive within `REQUEST_DEADLINE_S`; once it has,
    an answer (an event stream) may take as long as it needs."""

    timeout = REQUEST_DEADLINE_S  # also each read's limit (and the answer's writes)

    def setup(self) -> None:
        super().setup()
        self.rfile = Deadline(self.rfile, self.connection, REQUEST_DEADLINE_S)  # type: ignore[assignment]
