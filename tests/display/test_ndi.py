"""NDI out, sent and received on loopback (ndi-python's bundled runtime; a finder told to
look at 127.0.0.1, as mDNS does not cross a container): the pictures arrive at the size
set, each the one shown (found by its timecode) within NDI's compression, and a show with
`[ndi] enabled` publishes its picture."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from installation.capture import ReplaySource
from installation.display.config import NdiConfig
from installation.display.ndi import TIMECODE_PER_S, NdiSink
from installation.display.screen import ScreenFitter
from installation.display.sinks import Shown
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show

ndi = pytest.importorskip("NDIlib", reason="ndi-python is not installed (requirements.txt)")
TOLERANCE = 6.0  # mean grey levels: NDI's SpeedHQ is lossy (4:2:2)


class Receiver:
    """An NDI receiver of the source named like `name`, keeping every video frame as
    (timecode, RGB picture)."""

    def __init__(self, name: str) -> None:
        assert ndi.initialize()
        settings = ndi.FindCreate()
        settings.show_local_sources = True
        settings.extra_ips = "127.0.0.1"
        self.finder = ndi.find_create_v2(settings)
        self.name = name
        self.frames: list[tuple[int, np.ndarray]] = []
        self._stop = threading.Event()
        self.recv: Any = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        source = None
        while source is None and not self._stop.is_set():
            ndi.find_wait_for_sources(self.finder, 200)
            found = [s for s in ndi.find_get_current_sources(self.finder)
                     if f"({self.name})" in s.ndi_name]
            source = found[0] if found else None
        if source is None:
            return
        settings = ndi.RecvCreateV3()
        settings.color_format = ndi.RECV_COLOR_FORMAT_RGBX_RGBA
        settings.bandwidth = ndi.RECV_BANDWIDTH_HIGHEST
        self.recv = ndi.recv_create_v3(settings)
        ndi.recv_connect(self.recv, source)
        while not self._stop.is_set():
            kind, video, _, _ = ndi.recv_capture_v2(self.recv, 200)
            if kind == ndi.FRAME_TYPE_VIDEO:
                self.frames.append((int(video.timecode), np.copy(video.data[..., :3])))
                ndi.recv_free_video_v2(self.recv, video)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(10)
        if self.recv is not None:
            ndi.recv_destroy(self.recv)
        ndi.find_destroy(self.finder)


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Callable[[str], Receiver]]:
    made: list[Receiver] = []

    def make(name: str) -> Receiver:
        made.append(Receiver(name))
        return made[-1]
    yield make
    for r in made:
        r.close()


def pictures(n: int) -> list[np.ndarray]:
    """n different 320x180 pictures: gradients, each its own brightness."""
    x = np.linspace(0, 1, 320, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 1, 180, dtype=np.float32)[:, None, None]
    return [(np.concatenate([x + 0 * y, y + 0 * x, 0.5 + 0 * x * y], axis=2)
             * (120 + 40 * i)).astype(np.uint8) for i in range(n)]


def test_each_picture_arrives_as_shown(receiver: Callable[[str], Receiver],
                                       until: Callable[..., bool]) -> None:
    cfg = NdiConfig(enabled=True, name=f"test-{time.monotonic_ns()}", width=640, height=360)
    sink = NdiSink(cfg)
    got = receiver(cfg.name)
    try:
        sent: dict[int, np.ndarray] = {}
        shown = pictures(3)
        fitter = ScreenFitter((640, 360), "fill", mirror=True)
        t = 1000.0
        deadline = time.monotonic() + 20
        while len(got.frames) < 6 and time.monotonic() < deadline:
            for picture in shown:
                t += 1 / 30
                sink.send(Shown(picture, t, mirror=True, fit="fill"))
                sent[int(t * TIMECODE_PER_S)] = fitter.apply(picture).copy()
                time.sleep(1 / 30)
        assert len(got.frames) >= 6, "no NDI frames arrived on loopback"
        for timecode, frame in got.frames:
            assert frame.shape == (360, 640, 3)
            expected = sent[timecode]  # the very picture of that show time
            diff = np.abs(frame.astype(np.int16) - expected.astype(np.int16)).mean()
            assert diff < TOLERANCE, (timecode, diff)
    finally:
        sink.close()


def test_a_show_with_ndi_publishes_its_picture(
        tmp_path: Path, store: ModelStore, cpu: Device, receiver: Callable[[str], Receiver],
        until: Callable[..., bool]) -> None:
    name = f"show-{time.monotonic_ns()}"
    path = tmp_path / "config.toml"
    path.write_text(f"[attract]\nenabled = false\n[headless]\nrecord = false\n"
                    f"[ndi]\nenabled = true\nname = '{name}'\nwidth = 320\nheight = 180\n"
                    "[[scenes]]\nname = 'one'\nsize = [96, 64]\nstyles = [3]\n")
    frames = [np.full((64, 96, 3), 40 * (i + 1), np.uint8) for i in range(4)]
    show = Show(load_config(path), store, cpu, RunOptions(headless=True, duration_s=60),
                source=ReplaySource(frames, 30.0))
    got = receiver(name)
    thread = threading.Thread(target=show.run, daemon=True)
    thread.start()
    try:
        assert until(lambda: len(got.frames) >= 5, 30)
        assert all(f.shape == (180, 320, 3) for _, f in got.frames)
        assert max(f.mean() for _, f in got.frames) > 20  # the show's picture, not black
        assert until(lambda: show.reporter.state.recording, 10)  # said: pictures leave
    finally:
        show.stop()
        thread.join(30)
    ndi_state = next(s for s in show.sink_states() if s.name == "ndi")
    assert ndi_state.sent >= 5 and ndi_state.failed is None and ndi_state.writes


def test_a_library_that_does_not_load_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from installation.errors import UserError

    monkeypatch.setitem(sys.modules, "NDIlib", None)  # import fails, as a missing .so does
    with pytest.raises(UserError) as caught:
        NdiSink(NdiConfig(enabled=True))
    said = str(caught.value)
    assert said.startswith("ndi.enabled:") and "\n" not in said
