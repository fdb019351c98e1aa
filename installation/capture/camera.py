"""A live camera (`webcam:N` or a device path) that survives being unplugged or freezing.

The device is reached only through an opener, a callable that returns something shaped
like `cv2.VideoCapture` (`VideoDevice`), so tests drive a fake camera through the same
code path as the real one.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Protocol

import cv2
import numpy as np

from installation.capture.base import Source
from installation.capture.config import SourceConfig

log = logging.getLogger(__name__)

# After a failed read, wait this long before the next try instead of spinning, s.
_READ_RETRY_S = 0.02
# The fingerprint samples about this many points per side of the picture.
_FINGERPRINT_GRID = 24


class VideoDevice(Protocol):
    """The part of `cv2.VideoCapture` a camera source uses. `read` returns BGR uint8."""

    def isOpened(self) -> bool: ...

    def read(self) -> tuple[bool, np.ndarray | None]: ...

    def set(self, prop: int, value: float) -> bool: ...

    def release(self) -> None: ...


Opener = Callable[[], VideoDevice]


def camera_target(uri: str) -> int | str:
    """`webcam:N` → the index N; anything else (a device path) is passed through."""
    if uri.startswith("webcam:"):
        return int(uri.removeprefix("webcam:"))
    return uri


def cv2_opener(target: int | str, cfg: SourceConfig) -> Opener:
    """An opener for a real camera through OpenCV (V4L2 on Linux), set up from `cfg`."""
    backend = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY

    def open_device() -> VideoDevice:
        # OpenCV prints two warnings per failed open; while reconnecting every few seconds
        # that is spam, and our own single line already says what happened.
        level = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        try:
            cap = cv2.VideoCapture(target, backend)
        finally:
            cv2.utils.logging.setLogLevel(level)
        if cap.isOpened():
            # MJPG first: most USB cameras give 720p at 30 frames/s only compressed;
            # a camera without it ignores the request.
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, cfg.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, cfg.height)
            cap.set(cv2.CAP_PROP_FPS, cfg.fps)
            # One buffered frame: a read returns the newest picture, not a stale one.
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return cap

    return open_device


def fingerprint(image: np.ndarray) -> bytes:
    """A cheap signature of a picture: a strided sample of about 24x24 pixels.

    A real sensor always has noise, so two live frames practically never share it; a
    driver that keeps returning the same buffer does.
    """
    h, w = image.shape[:2]
    step_y = max(1, h // _FINGERPRINT_GRID)
    step_x = max(1, w // _FINGERPRINT_GRID)
    return image[::step_y, ::step_x].tobytes()


class CameraSource(Source):
    """Reads a camera in its own thread; reconnects with backoff when it fails or freezes.

    `status` is "starting", "live" or "reconnecting"; `reconnects` counts recoveries.
    While the camera is away nothing is emitted, so readers keep the last good picture.
    """

    kind = "camera"

    def __init__(
        self,
        name: str,
        opener: Opener,
        *,
        stall_timeout_s: float = 3.0,
        reconnect_min_s: float = 0.5,
        reconnect_max_s: float = 10.0,
    ) -> None:
        super().__init__(name)
        self._opener = opener
        self.stall_timeout_s = stall_timeout_s
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = max(reconnect_max_s, reconnect_min_s)
        self._device: VideoDevice | None = None

    @classmethod
    def from_config(cls, cfg: SourceConfig, opener: Opener | None = None) -> CameraSource:
        """A camera for `cfg.uri` (`webcam:N` or a device path); not opened yet."""
        return cls(
            cfg.uri,
            opener or cv2_opener(camera_target(cfg.uri), cfg),
            stall_timeout_s=cfg.stall_timeout_s,
            reconnect_min_s=cfg.reconnect_min_s,
            reconnect_max_s=cfg.reconnect_max_s,
        )

    def try_open(self) -> bool:
        """Open the camera now and read one frame; False when it is absent or silent.

        Call before `start()` to decide at start-up whether to fall back to the demo. The
        device stays open for the thread; the probe frame is dropped (it would be stale).
        """
        device = self._open()
        if device is None:
            return False
        ok, bgr = self._read(device)
        if not ok or bgr is None:
            self._release(device)
            return False
        self._device = device
        log.info("camera %s open: %dx%d px", self.name, bgr.shape[1], bgr.shape[0])
        return True

    def stop(self) -> None:
        super().stop()
        # Never started (or the thread has ended): release the device try_open kept.
        if (self._thread is None or not self._thread.is_alive()) and self._device is not None:
            self._release(self._device)
            self._device = None

    # -- the capture thread --------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            if self._device is not None:
                self._release(self._device)
                self._device = None

    def _loop(self) -> None:
        last_fp = b""  # kept across reconnects: a frozen driver's old picture is not "back"
        last_fresh = time.monotonic()  # when the picture last changed, s
        lost_at: float | None = None  # when the camera went away (None while live), s
        backoff = self.reconnect_min_s
        if self._device is None:  # started without try_open
            self._device = self._open()
        if self._device is None:
            lost_at = self._lose("not available")
        else:
            self.status = "live"
        while not self._stop.is_set():
            # Reopen: wait, try once, double the wait up to the maximum.
            if self._device is None:
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, self.reconnect_max_s)
                self._device = self._open()
                if self._device is None:
                    continue
                last_fresh = time.monotonic()  # it gets stall_timeout_s to deliver

            # Read: the stamp is taken right after the device hands the picture over.
            ok, bgr = self._read(self._device)
            t = time.monotonic()
            fresh = False
            if ok and bgr is not None:
                fp = fingerprint(bgr)
                if fp != last_fp:
                    last_fp, last_fresh, fresh = fp, t, True

            # Lost: no new picture (failed reads or the same one again) for too long.
            if t - last_fresh > self.stall_timeout_s:
                self._release(self._device)
                self._device = None
                if lost_at is None:
                    why = "picture frozen" if ok else "reads failing"
                    lost_at = self._lose(f"{why} for {self.stall_timeout_s:g} s")
                else:
                    log.debug("camera %s reopened but delivers nothing new", self.name)
                continue
            if not ok or bgr is None or (lost_at is not None and not fresh):
                self._stop.wait(_READ_RETRY_S)
                continue

            # Back: the first new picture after a loss.
            if lost_at is not None:
                self.reconnects += 1
                self.status = "live"
                backoff = self.reconnect_min_s
                log.info("camera %s is back after %.1f s (reconnect %d)",
                         self.name, t - lost_at, self.reconnects)
                lost_at = None
            self._emit(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t)

    def _lose(self, why: str) -> float:
        """Note the camera as lost: one warning line, status for the HUD."""
        self.status = "reconnecting"
        log.warning("camera %s: %s; reconnecting (every %g..%g s)",
                    self.name, why, self.reconnect_min_s, self.reconnect_max_s)
        return time.monotonic()

    # -- device calls that must never raise into the thread -------------------------------

    def _open(self) -> VideoDevice | None:
        try:
            device = self._opener()
            if device.isOpened():
                return device
        except Exception as exc:  # cv2.error, OSError from a vanished device node, ...
            log.debug("camera %s: open failed: %s", self.name, exc)
            return None
        self._release(device)
        return None

    def _read(self, device: VideoDevice) -> tuple[bool, np.ndarray | None]:
        try:
            ok, bgr = device.read()
        except Exception as exc:
            log.debug("camera %s: read failed: %s", self.name, exc)
            return False, None
        if not ok or bgr is None:
            return False, None
        return True, bgr

    def _release(self, device: VideoDevice) -> None:
        try:
            device.release()
        except Exception as exc:
            log.debug("camera %s: release failed: %s", self.name, exc)
