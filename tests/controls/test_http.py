"""The status server under a hostile network: a request dribbled in (slowloris) is cut at
its deadline, connections past the cap are closed at once, and the server answers again
as soon as they go."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from installation.controls import http
from installation.controls.status import StatusConfig, StatusServer


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[StatusServer]:
    monkeypatch.setattr(http, "REQUEST_DEADLINE_S", 0.5)
    monkeypatch.setattr(http, "MAX_CONNECTIONS", 4)
    s = StatusServer(StatusConfig(enabled=True, port=0)).start()
    yield s
    s.stop()


def connect(server: StatusServer) -> socket.socket:
    sock = socket.create_connection(server.address, timeout=5)
    return sock


def health(server: StatusServer) -> bytes:
    """The start of /health's answer (b"" when the connection was closed unanswered)."""
    with connect(server) as sock:
        try:
            sock.sendall(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            return sock.recv(64)
        except ConnectionResetError:
            return b""


def closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


def test_a_dribbled_request_is_cut_at_its_deadline(server: StatusServer) -> None:
    sock = connect(server)
    sock.sendall(b"GET /health HTTP/1.1\r\n")
    t0 = time.monotonic()
    cut = False
    while time.monotonic() - t0 < 5.0:  # a header line every 0.2 s: never a whole request
        try:
            sock.sendall(b"X-Slow: 1\r\n")
        except OSError:
            cut = True
            break
        sock.settimeout(0.2)
        try:
            if sock.recv(1024) == b"":
                cut = True
                break
        except TimeoutError:
            pass
        except ConnectionResetError:
            cut = True
            break
    sock.close()
    assert cut  # long before the 5 s: the deadline is 0.5 s
    assert health(server).startswith(b"HTTP/1.0 ")


def test_connections_past_the_cap_are_closed_and_the_server_comes_back(
        server: StatusServer) -> None:
    idle = [connect(server) for _ in range(4)]  # each holds a thread, sending nothing
    extra = connect(server)  # accepted after them (one accepting thread, in order)
    extra.settimeout(5)
    assert closed(extra)  # closed at once, not queued behind the idle ones
    for sock in idle:
        sock.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # their slots come back as their threads end
        reply = health(server)
        if reply.startswith(b"HTTP/1.0 "):
            break
        time.sleep(0.1)
    assert reply.startswith(b"HTTP/1.0 ")
