"""Fakes for hardware this machine lacks, behind the same interface as the real thing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from installation.capture.base import Source
from installation.capture.camera import VideoDevice


class FakeWorld:
    """What the fake camera is doing; tests flip these while the source runs."""

    def __init__(self, alive: bool = True, size: tuple[int, int] = (64, 48)) -> None:
        self.alive = alive  # opens and reads succeed
        self.frozen = False  # reads return the very same picture again and again
        self.size = size  # (width, height), px
        self.opens = 0
        self.releases = 0
        self.settings: dict[int, float] = {}
        self.lock = threading.Lock()
        w, h = size
        self.still = np.full((h, w, 3), (200, 100, 10), np.uint8)  # what a frozen driver repeats


class FakeCamera:
    """A `VideoDevice`: ~200 frames/s of sensor noise in BGR (blue high, red low)."""

    def __init__(self, world: FakeWorld) -> None:
        self.world = world
        self.opened = world.alive
        self.rng = np.random.default_rng(world.opens)

    def _picture(self, w: int, h: int) -> np.ndarray:
        bgr = np.empty((h, w, 3), np.uint8)
        bgr[..., 0] = 200 + self.rng.integers(0, 8, (h, w))  # blue
        bgr[..., 1] = 100
        bgr[..., 2] = 10 + self.rng.integers(0, 8, (h, w))  # red
        return bgr

    def isOpened(self) -> bool:
        return self.opened

    def read(self) -> tuple[bool, np.ndarray | None]:
        time.sleep(0.005)  # a real read blocks until the sensor delivers
        if not (self.opened and self.world.alive):
            return False, None
        if self.world.frozen:
            return True, self.world.still.copy()
        return True, self._picture(*self.world.size)

    def set(self, prop: int, value: float) -> bool:
        self.world.settings[prop] = value
        return True

    def release(self) -> None:
        with self.world.lock:
            self.world.releases += 1
        self.opened = False


def opener_for(world: FakeWorld) -> Callable[[], VideoDevice]:
    def open_fake() -> VideoDevice:
        with world.lock:
            world.opens += 1
        return FakeCamera(world)

    return open_fake


class Room(Source):
    """A camera watching a room (`motion.scenes.Scene`): empty, or a visitor walking to and
    fro across it while `visitor` is True. ~30 frames/s with sensor noise."""

    kind = "camera"

    def __init__(self, fps: float = 30.0) -> None:
        from motion.scenes import Scene

        super().__init__("room")
        self.scene = Scene(seed=5)
        self.fps = fps
        self.visitor = False

    def _run(self) -> None:
        self.status = "live"
        t0 = time.monotonic()
        while not self._stop.wait(1.0 / self.fps):
            t = time.monotonic() - t0
            span = self.scene.width - self.scene.side
            x = abs((100.0 * t) % (2 * span) - span) if self.visitor else None  # 100 px/s
            self._emit(self.scene.picture(x))


class SlowMachine:
    """A real effect on a slower machine: each call also takes `ms_per_kpx` ms per thousand
    pixels the effect works on (its `size`), so cost follows the processing size as a
    network's does. Everything else is the wrapped effect's."""

    def __init__(self, inner: Any, ms_per_kpx: float) -> None:
        self.inner, self.ms_per_kpx = inner, ms_per_kpx
        self.name, self.scalable = inner.name, inner.scalable

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        w, h = self.inner.size
        time.sleep(self.ms_per_kpx * w * h / 1e6)
        out: np.ndarray = self.inner(image, t)
        return out

    def resize(self, size: tuple[int, int]) -> None:
        self.inner.resize(size)

    @property
    def size(self) -> tuple[int, int]:
        size: tuple[int, int] = self.inner.size
        return size

    def step_style(self, delta: int, t: float) -> None:
        self.inner.step_style(delta, t)

    def describe(self) -> str:
        return str(self.inner.describe())


class Hangs(SlowMachine):
    """The wrapped effect, except that every call blocks until `release` is set (or, as a
    guard, `limit_s` passes): a stage that hangs."""

    def __init__(self, inner: object, limit_s: float | None = None) -> None:
        super().__init__(inner, ms_per_kpx=0.0)
        self.release = threading.Event()
        self.limit_s = limit_s
        self.calls = 0

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        self.calls += 1
        released = self.release.wait(self.limit_s)
        assert released or self.limit_s is None
        return super().__call__(image, t)
