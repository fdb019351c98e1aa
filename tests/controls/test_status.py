"""The status endpoint on loopback while the show runs headless: /health says ok or
degraded with reasons, /metrics speaks Prometheus, and 1,000 requests do not stall it."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from installation.capture import ReplaySource
from installation.controls.status import StatusConfig, StatusServer
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.config import Config
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show
from installation.state import (
    FrameState,
    PerceptionState,
    RemoteState,
    SourceState,
    VisitorState,
)
from installation.temporal import stabiliser

FPS = 30.0  # the replayed source's rate, frames/s: the show has headroom at 96x64


def config(tmp_path: Path) -> Config:
    path = tmp_path / "config.toml"
    path.write_text("[attract]\nenabled = false\n[status]\nenabled = true\nport = 0\n"
                    "[headless]\nrecord = false\n"
                    "[[scenes]]\nname = 'one'\nsize = [96, 64]\nstyles = [3]\n"
                    "temporal = {enabled = true}\n")
    return load_config(path)


def get(show: Show, path: str) -> tuple[int, bytes]:
    assert show.status is not None
    host, port = show.status.address
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@contextmanager
def running(show: Show, until: Callable[..., bool]) -> Iterator[Show]:
    thread = threading.Thread(target=show.run, daemon=True)
    thread.start()
    try:
        assert until(lambda: show.report.shown > 5, 60)
        yield show
    finally:
        show.stop()
        thread.join(30)


def frames(n: int = 8) -> list[np.ndarray]:
    return [np.full((64, 96, 3), 10 * i % 256, np.uint8) for i in range(n)]


def test_health_and_metrics(tmp_path: Path, store: ModelStore, cpu: Device,
                            until: Callable[..., bool], monkeypatch: pytest.MonkeyPatch) -> None:
    # A flow job late by a stall of the shared machine would cost a frame its blending
    # (and "unblended" below its 0): here it is waited for.
    monkeypatch.setattr(stabiliser, "FLOW_TIMEOUT_S", 30.0)
    show = Show(config(tmp_path), store, cpu, RunOptions(headless=True, duration_s=120),
                source=ReplaySource(frames(), FPS))
    with running(show, until):
        logging.getLogger("installation.test").error("something broke once")
        code, body = get(show, "/health")
        health: dict[str, Any] = json.loads(body)
        assert code == 200 and health["status"] == "ok" and health["reasons"] == []
        assert health["scene"] == "one" and health["fps"] > 0 and health["latency_ms"] > 0
        assert health["source"]["state"] == "playing" and health["uptime_s"] > 0
        assert health["last_error"].endswith("something broke once")
        assert health["writing"] == {"recording": False, "snapshots": False}
        assert health["temporal"]["on"] and health["temporal"]["unblended"] == 0
        assert health["perception"] is None  # nothing interactive: no visitors read
        code, body = get(show, "/metrics")
        text = body.decode()
        assert code == 200
        shown = next(float(ln.split()[1]) for ln in text.splitlines()
                     if ln.startswith("installation_frames_total "))
        assert shown > 0
        for name in ("installation_fps", "installation_latency_seconds_bucket",
                     "installation_camera_reconnects", "installation_uptime_seconds",
                     "installation_temporal_kept", "installation_temporal_unblended",
                     "installation_visitors", "installation_energy_raw",
                     "installation_perception_ms"):
            assert name in text
        assert get(show, "/nothing")[0] == 404


def test_degraded_when_the_source_ends(tmp_path: Path, store: ModelStore, cpu: Device,
                                       until: Callable[..., bool]) -> None:
    source = ReplaySource(frames(20), FPS, loop=False)
    show = Show(config(tmp_path), store, cpu, RunOptions(headless=True, duration_s=120),
                source=source)
    with running(show, until):
        assert until(lambda: source.status == "ended", 30)
        assert until(lambda: get(show, "/health")[0] == 503, 30)
        health = json.loads(get(show, "/health")[1])
        assert health["status"] == "degraded"
        assert any("source replay is ended" in r for r in health["reasons"])
        assert health["source"]["state"] == "ended"  # refreshed with no frame shown


def test_a_thousand_requests_do_not_stall_the_show(tmp_path: Path, store: ModelStore,
                                                   cpu: Device,
                                                   until: Callable[..., bool]) -> None:
    """Requests keep arriving, 8 at a time, until the show has shown 20 more frames: the
    show goes on while the server answers every one of at least 1,000 (no timing ratio:
    the figure is in the README)."""
    show = Show(config(tmp_path), store, cpu, RunOptions(headless=True, duration_s=300),
                source=ReplaySource(frames(), FPS))
    flooding = threading.Event()
    flooding.set()
    codes: list[int] = []

    def flood(i: int) -> None:
        while flooding.is_set() or len(codes) < 1000:
            codes.append(get(show, "/health" if i % 2 else "/metrics")[0])

    with running(show, until), ThreadPoolExecutor(8) as pool:
        for i in range(8):
            pool.submit(flood, i)
        assert until(lambda: len(codes) >= 100, 60)  # the flood is on
        n0 = show.report.shown
        assert until(lambda: show.report.shown >= n0 + 20, 120)  # frames go on under it
        flooding.clear()
    assert len(codes) >= 1000 and set(codes) == {200}
    assert show.status is not None and show.status.requests >= 1000


def test_a_port_in_use_costs_the_endpoint_not_the_show(
        tmp_path: Path, store: ModelStore, cpu: Device,
        caplog: pytest.LogCaptureFixture) -> None:
    first = Show(config(tmp_path), store, cpu, RunOptions(headless=True))
    assert first.status is not None
    path = tmp_path / "second.toml"
    path.write_text(f"[status]\nenabled = true\nport = {first.status.address[1]}\n"
                    "[attract]\nenabled = false\n[[scenes]]\nname = 'one'\nsize = [96, 64]\n")
    try:
        with caplog.at_level(logging.ERROR, logger="installation"):
            second = Show(load_config(path), store, cpu, RunOptions(headless=True))
        assert second.status is None
        assert any("cannot listen" in r.getMessage() and "runs without it" in r.getMessage()
                   for r in caplog.records)
    finally:
        first.status.stop()


def fetch(server: StatusServer, path: str) -> tuple[int, bytes]:
    host, port = server.address
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def gauge(text: str, name: str) -> float:
    return next(float(ln.split()[1]) for ln in text.splitlines() if ln.startswith(name + " "))


def test_the_visitors_in_health_and_metrics() -> None:
    """A frame state with two visitors, published to a real server on loopback: /health
    has them, positions and sizes included; a person network not in use is said, and the
    show is still ok; /metrics has the gauges, back to 0 when perception is off."""
    server = StatusServer(StatusConfig(enabled=True, host="127.0.0.1", port=0)).start()
    try:
        people = (VisitorState(7, 0.25, 0.5, 0.1, 0.4, 0.3, 0.0, True),
                  VisitorState(9, 0.75, 0.6, 0.05, 0.2, 0.1, 4.0))
        seen = PerceptionState(people, energy_raw=0.35, energy=0.6, gain=1.7, presence=1.0,
                               crowd=0.5, ms=6.5, network="person network not pulled")
        now = time.monotonic()
        server.publish(FrameState(t=now, t_present=now, fresh=True, fps=30.0,
                                  source=SourceState("demo", "playing"), perception=seen))
        code, body = fetch(server, "/health")
        health = json.loads(body)
        assert code == 200 and health["status"] == "ok"
        block = health["perception"]
        assert block["count"] == 2 and block["network"] == "person network not pulled"
        assert (block["energy_raw"], block["energy"], block["gain"]) == (0.35, 0.6, 1.7)
        assert block["presence"] == 1.0 and block["ms"] == 6.5
        assert [(v["id"], v["x"], v["y"], v["height"]) for v in block["visitors"]] == [
            (7, 0.25, 0.5, 0.4), (9, 0.75, 0.6, 0.2)]
        text = fetch(server, "/metrics")[1].decode()
        assert gauge(text, "installation_visitors") == 2
        assert gauge(text, "installation_energy") == 0.6
        assert gauge(text, "installation_energy_raw") == 0.35
        assert gauge(text, "installation_energy_gain") == 1.7
        assert gauge(text, "installation_presence") == 1.0
        assert gauge(text, "installation_perception_ms") == 6.5

        server.publish(FrameState(t=now, t_present=now, source=SourceState("demo", "playing")))
        assert json.loads(fetch(server, "/health")[1])["perception"] is None
        text = fetch(server, "/metrics")[1].decode()
        assert gauge(text, "installation_visitors") == 0
        assert gauge(text, "installation_energy_gain") == 0
    finally:
        server.stop()


def test_the_serving_engine_in_health_and_metrics() -> None:
    """The display side names its server, the round trip and the calls; a fall back to
    the local engine makes /health degraded with the reason."""
    server = StatusServer(StatusConfig(enabled=True, host="127.0.0.1", port=0)).start()
    try:
        now = time.monotonic()
        up = RemoteState("gpu-box:8001", True, rtt_ms=1.5, call_ms=9.0, calls=120)
        server.publish(FrameState(t=now, t_present=now, source=SourceState("demo", "playing"),
                                  remote=up))
        code, body = fetch(server, "/health")
        health = json.loads(body)
        assert code == 200 and health["remote"]["server"] == "gpu-box:8001"
        assert health["remote"]["rtt_ms"] == 1.5 and health["remote"]["calls"] == 120
        text = fetch(server, "/metrics")[1].decode()
        assert gauge(text, "installation_remote_up") == 1
        assert gauge(text, "installation_remote_rtt_ms") == 1.5
        assert 'installation_remote_calls_total{where="server"} 120.0' in text

        down = RemoteState("gpu-box:8001", False, reason="ping: StatusCode.UNAVAILABLE",
                           falls=1, calls=120, local_calls=30)
        server.publish(FrameState(t=now, t_present=now, source=SourceState("demo", "playing"),
                                  remote=down))
        code, body = fetch(server, "/health")
        health = json.loads(body)
        assert code == 503 and health["status"] == "degraded"
        assert health["reasons"] == ["remote gpu-box:8001 not used (ping: StatusCode."
                                     "UNAVAILABLE): networks run locally"]
        text = fetch(server, "/metrics")[1].decode()
        assert gauge(text, "installation_remote_up") == 0
        assert 'installation_remote_calls_total{where="local"} 30.0' in text
        assert gauge(text, "installation_remote_falls_total") == 1
    finally:
        server.stop()
