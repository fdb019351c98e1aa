"""The status endpoint on loopback while the show runs headless: /health says ok or
degraded with reasons, /metrics speaks Prometheus, and 1,000 requests do not stall it."""

from __future__ import annotations

import json
import logging
import threading
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
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.config import Config
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show

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
                            until: Callable[..., bool]) -> None:
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
        code, body = get(show, "/metrics")
        text = body.decode()
        assert code == 200
        shown = next(float(ln.split()[1]) for ln in text.splitlines()
                     if ln.startswith("installation_frames_total "))
        assert shown > 0
        for name in ("installation_fps", "installation_latency_seconds_bucket",
                     "installation_camera_reconnects", "installation_uptime_seconds",
                     "installation_temporal_kept", "installation_temporal_unblended"):
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
