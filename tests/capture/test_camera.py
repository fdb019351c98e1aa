"""The camera source against a scripted fake camera injected through the opener."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
import pytest
from fakes import FakeCamera, FakeWorld, opener_for

from installation.capture import CameraSource, VideoFileSource, open_source
from installation.capture.camera import VideoDevice, camera_target, cv2_opener, fingerprint
from installation.capture.config import SourceConfig
from installation.errors import SourceError
from installation.models import ModelStore

Until = Callable[..., bool]


def camera(world: FakeWorld, reconnect_min_s: float = 0.05) -> CameraSource:
    cfg = SourceConfig(
        uri="webcam:0", stall_timeout_s=0.3, reconnect_min_s=reconnect_min_s,
        reconnect_max_s=max(0.2, reconnect_min_s),
    )
    return CameraSource.from_config(cfg, opener_for(world))


def camera_logs(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "installation.capture.camera" and r.levelno == level]


def test_frames_are_rgb_and_stamped() -> None:
    world = FakeWorld()
    source = camera(world)
    assert source.try_open()
    before = time.monotonic()
    source.start()
    try:
        v1, f1 = source.read(timeout=10)
        _, f2 = source.read(after=v1, timeout=10)
        assert f1 is not None and f2 is not None
        assert f1.image.shape == (48, 64, 3) and f1.image.dtype == np.uint8
        assert f1.image[..., 0].max() < 20 and f1.image[..., 2].min() >= 200  # R low, B high
        assert before <= f1.t_capture < f2.t_capture <= time.monotonic()
        assert f1.seq < f2.seq
        assert source.status == "live" and source.name == "webcam:0"
    finally:
        source.stop()
    assert world.opens == 1 and world.releases == 1


def test_dies_mid_run_and_comes_back(until: Until, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="installation.capture")
    world = FakeWorld()
    source = camera(world)
    assert source.try_open()
    source.start()
    try:
        _, frame = source.read(timeout=10)
        assert frame is not None

        # Unplugged: reads fail, then reopening fails several times over.
        world.alive = False
        assert until(lambda: source.status == "reconnecting")
        assert until(lambda: world.opens >= 4)
        frames_while_away = source.frames
        last_version, last = source.slot.peek()
        assert last is not None  # the last good picture stays where it is
        assert source.reconnects == 0
        assert len(camera_logs(caplog, logging.WARNING)) == 1  # one line, no spam
        assert "reads failing" in camera_logs(caplog, logging.WARNING)[0]

        # Plugged back in: counted once, frames flow again.
        world.alive = True
        assert until(lambda: source.reconnects == 1 and source.status == "live")
        _, fresh = source.read(after=last_version, timeout=10)
        assert fresh is not None and fresh.seq > last.seq
        assert source.frames > frames_while_away
        infos = camera_logs(caplog, logging.INFO)
        assert [m for m in infos if "is back" in m] == infos[-1:]  # one line, the last
        assert "open: 64x48 px" in infos[0]
    finally:
        source.stop()
    assert world.releases == world.opens  # every device opened was released


def test_frozen_picture_counts_as_lost(until: Until, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="installation.capture")
    world = FakeWorld()
    source = camera(world)
    source.start()  # without try_open: the thread opens the camera itself
    try:
        assert until(lambda: source.frames > 0 and source.status == "live")
        world.frozen = True
        assert until(lambda: source.status == "reconnecting")
        assert "picture frozen" in camera_logs(caplog, logging.WARNING)[0]

        # Reopened devices that still repeat the frozen picture are not "back".
        opens = world.opens
        assert until(lambda: world.opens >= opens + 2)
        assert source.reconnects == 0 and source.status == "reconnecting"

        world.frozen = False
        assert until(lambda: source.reconnects == 1 and source.status == "live")
        count = source.frames
        assert until(lambda: source.frames > count)
        assert len(camera_logs(caplog, logging.WARNING)) == 1
    finally:
        source.stop()


def test_stop_is_prompt_during_backoff(until: Until) -> None:
    world = FakeWorld()
    source = camera(world, reconnect_min_s=60.0)  # a backoff far longer than stop's join
    assert source.try_open()
    source.start()
    world.alive = False
    assert until(lambda: source.status == "reconnecting")
    source.stop()
    assert source._thread is not None and not source._thread.is_alive()
    _, frame = source.read(after=10**9, timeout=10)  # the slot is closed: returns at once
    assert frame is None


def test_fingerprint_sees_noise_not_identity() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    b = a.copy()
    assert fingerprint(a) == fingerprint(b)
    b += 1
    assert fingerprint(a) != fingerprint(b)
    assert len(fingerprint(a)) < 4096  # cheap: a small sample, not the picture


def test_try_open_fails_for_absent_or_silent_or_broken_camera() -> None:
    absent = camera(FakeWorld(alive=False))
    assert not absent.try_open()

    def broken() -> VideoDevice:
        raise OSError("no such device")

    assert not CameraSource("webcam:3", broken).try_open()

    class Silent(FakeCamera):
        def read(self) -> tuple[bool, np.ndarray | None]:
            return False, None

    world = FakeWorld()
    silent = CameraSource("webcam:0", lambda: Silent(world))
    assert not silent.try_open()
    assert world.releases == 1


def test_real_opener_on_an_absent_device_is_quiet(capfd: pytest.CaptureFixture[str]) -> None:
    device = cv2_opener("/dev/video-none", SourceConfig(uri="/dev/video-none"))()
    assert not device.isOpened()
    device.release()
    assert "WARN" not in capfd.readouterr().err  # OpenCV's own warnings are held back
    assert camera_target("webcam:2") == 2
    assert camera_target("/dev/video1") == "/dev/video1"


def test_stop_without_start_releases_the_device() -> None:
    world = FakeWorld()
    source = camera(world)
    assert source.try_open()
    source.stop()
    assert world.releases == 1


def test_missing_camera_falls_back_to_demo(
    store: ModelStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="installation.capture")
    cfg = SourceConfig(uri="webcam:0", on_missing="demo", demo_clip="bikes")
    source = open_source(cfg, store, opener=opener_for(FakeWorld(alive=False)))
    assert isinstance(source, VideoFileSource)
    assert source.name == "demo:bikes"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "no camera at webcam:0; playing the demo clip 'bikes' instead "
        "(source.on_missing = 'demo')"
    ]


def test_missing_camera_exits_when_asked(store: ModelStore) -> None:
    cfg = SourceConfig(uri="/dev/video7", on_missing="exit")
    with pytest.raises(SourceError, match=r"/dev/video7.*source\.on_missing"):
        open_source(cfg, store, opener=opener_for(FakeWorld(alive=False)))


def test_open_source_returns_an_opened_camera(store: ModelStore) -> None:
    world = FakeWorld()
    source = open_source(SourceConfig(uri="webcam:2"), store, opener=opener_for(world))
    assert isinstance(source, CameraSource) and source.name == "webcam:2"
    assert world.opens == 1
    source.stop()
    assert world.releases == 1
