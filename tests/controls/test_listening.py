"""Every listener's faults go through the one rate-limited log: a flood of hostile
datagrams and requests costs a few log lines, never a traceback on stderr, never the
listener, never the show's frames."""

from __future__ import annotations

import http.client
import logging
import random
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from installation.capture import ReplaySource
from installation.commands import Command, Name
from installation.controls.osc import OscConfig, OscControl
from installation.controls.status import StatusConfig, StatusServer
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show

LOOPBACK = OscConfig(enabled=True, host="127.0.0.1", port=0)


def hostile_datagrams(seed: int, n: int) -> list[bytes]:
    """What a hostile network sends: addresses that are not UTF-8, bundles nested deep or
    many, truncated messages, type tags that lie, random bytes."""
    rng = random.Random(seed)

    def bundle(inner: bytes) -> bytes:
        return b"#bundle\x00" + bytes(8) + struct.pack(">i", len(inner)) + inner

    nested = b"/installation/hud\x00\x00\x00,\x00\x00\x00"
    for _ in range(400):
        nested = bundle(nested)
    kinds = [
        lambda: b"/inst" + bytes(rng.randrange(128, 256) for _ in range(7)) + b"\x00,i\x00\x00"
        + bytes(4),
        lambda: nested[: rng.randrange(2000, len(nested))],
        lambda: b"/installation/strength\x00\x00,f\x00\x00\x00\x3f",  # a float cut short
        lambda: b"/installation/scene\x00,s\x00\x00" + bytes(rng.randrange(256)
                                                          for _ in range(rng.randrange(1, 40))),
        lambda: bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600))),
        lambda: b"#bundle\x00" + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64))),
    ]
    return [rng.choice(kinds)() for _ in range(n)]


def test_a_flood_of_hostile_datagrams_costs_a_few_lines(
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
        until: Callable[..., bool]) -> None:
    osc = OscControl(LOOPBACK, clock=lambda: 7.0).start()  # one rate-limit window throughout
    try:
        host, port = osc.address
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with caplog.at_level(logging.WARNING, logger="installation"):
            for datagram in hostile_datagrams(seed=14, n=600):
                raw.sendto(datagram, (host, port))
            client = SimpleUDPClient(host, port)
            got: list[Command] = []
            hud = Command(Name.HUD, True)

            def still_there() -> bool:  # UDP drops what a full buffer cannot hold: resent
                client.send_message("/installation/hud", 1)
                got.extend(osc.drain())
                return hud in got

            assert until(still_there, 30)
        raw.close()
        lines = [r.getMessage() for r in caplog.records
             if r.levelno >= logging.WARNING]
        assert 1 <= len(lines) <= 4, lines  # one per kind of fault in the window
        assert "Traceback" not in capfd.readouterr().err
    finally:
        osc.stop()


def test_a_flood_keeps_the_show_showing(tmp_path: Path, store: ModelStore, cpu: Device,
                                        until: Callable[..., bool],
                                        capfd: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[attract]\nenabled = false\n[headless]\nrecord = false\n"
                    "[osc]\nenabled = true\nport = 0\n"
                    "[[scenes]]\nname = 'one'\nsize = [96, 64]\nstyles = [3]\n")
    frames = [np.full((64, 96, 3), 20 * i % 256, np.uint8) for i in range(8)]
    show = Show(load_config(path), store, cpu, RunOptions(headless=True, duration_s=300),
                source=ReplaySource(frames, 30.0))
    (osc,) = [s for s in show.surfaces if isinstance(s, OscControl)]
    flooding = threading.Event()
    flooding.set()
    seen: dict[str, bool] = {}

    def flood() -> None:
        raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        datagrams = hostile_datagrams(seed=1, n=200)
        while flooding.is_set():
            for datagram in datagrams:
                raw.sendto(datagram, osc.address)
        raw.close()

    def drive() -> None:
        try:
            seen["started"] = until(lambda: show.report.shown > 0, 60)
            threading.Thread(target=flood, daemon=True).start()
            n0 = show.report.shown
            seen["goes on"] = until(lambda: show.report.shown >= n0 + 20, 120)
        finally:
            flooding.clear()
            show.stop()

    threading.Thread(target=drive, daemon=True).start()
    show.run()
    assert seen == {"started": True, "goes on": True}
    assert "Traceback" not in capfd.readouterr().err


def test_http_head_bad_requests_and_a_failing_handler(
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    server = StatusServer(StatusConfig(enabled=True, port=0)).start()
    try:
        host, port = server.address
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.request("HEAD", "/health")
        r = conn.getresponse()
        assert r.status == 503 and r.read() == b""  # no frame shown yet: degraded, no body
        assert int(r.getheader("Content-Length") or 0) > 0
        conn.close()
        with caplog.at_level(logging.WARNING, logger="installation"):
            for line in (b"GARBAGE\r\n\r\n", b"GET /health HTTP/9.9\r\n\r\n",
                         b"\xff\xfe\x00\x01" * 100 + b"\r\n\r\n"):
                with socket.create_connection((host, port), timeout=10) as s:
                    s.sendall(line)
                    assert s.recv(100)  # answered (an error page), not dropped

            def broken() -> tuple[int, dict[str, object]]:
                raise RuntimeError("a bug in the health check")

            server.health = broken  # type: ignore[method-assign]
            with socket.create_connection((host, port), timeout=10) as s:
                s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
                s.recv(100)  # the connection ends; the server goes on
        lines = [r.getMessage() for r in caplog.records]
        assert any("a bug in the health check" in m for m in lines)
        assert any(m.startswith("status: a request from") for m in lines)
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.request("GET", "/metrics")
        assert conn.getresponse().status == 200  # still serving
        conn.close()
        assert "Traceback" not in capfd.readouterr().err
    finally:
        server.stop()
