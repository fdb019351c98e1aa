"""The web console's live preview: the shown picture, small, a few times a second, as JPEG.

A sink of the show (run in its own thread by `ThreadedSink`, so encoding never costs the
loop a frame). It encodes only while someone looks: a request for the preview in the last
`WATCHED_S` seconds. The newest JPEG is held in memory for the next request and never
written anywhere (privacy: the console shows the room to its operator, it keeps nothing).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import cv2

from installation.display.screen import ScreenFitter
from installation.display.sinks import Shown

WIDTH = 320  # px: the preview's width (its height follows the picture's shape)
FPS = 4.0  # pictures encoded a second at most, while watched
QUALITY = 70  # JPEG quality, 0..100
WATCHED_S = 3.0  # a preview request keeps the encoder going this long, s


class Preview:
    """The newest preview JPEG and whether anyone wants one. Thread-safe: the sink's
    thread writes, HTTP threads read."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._jpeg: bytes | None = None
        self._wanted_at = -WATCHED_S - 1.0  # when a request last asked for it, monotonic s
        self._lock = threading.Lock()

    def wanted(self) -> bool:
        return self.clock() - self._wanted_at <= WATCHED_S

    def take(self) -> bytes | None:
        """The newest JPEG (None before the first), and keep encoding for a while."""
        with self._lock:
            self._wanted_at = self.clock()
            return self._jpeg

    def hold(self, jpeg: bytes) -> None:
        with self._lock:
            self._jpeg = jpeg

    def forget(self) -> None:
        with self._lock:
            self._jpeg = None


class PreviewSink:
    """Shown pictures → `Preview`, at most `FPS` a second and only while watched. Mirrored
    as the window shows it; never the HUD or the overlay (the operator's own)."""

    name = "preview"
    writes = False  # kept in memory for the operator's page, never stored or streamed on

    def __init__(self, preview: Preview) -> None:
        self.preview = preview
        self._fitter: ScreenFitter | None = None
        self._last_t = float("-inf")  # show time of the last picture encoded, s

    def send(self, shown: Shown) -> None:
        if not self.preview.wanted():
            self.preview.forget()  # nobody looks: the room is not kept, even in memory
            return
        if shown.t - self._last_t < 1.0 / FPS:
            return
        h, w = shown.picture.shape[:2]
        size = (WIDTH, max(1, round(h * WIDTH / w)))
        if self._fitter is None or self._fitter.size != size:
            self._fitter = ScreenFitter(size, "fill")
        self._fitter.mirror = shown.mirror
        small = self._fitter.apply(shown.picture)
        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR),
                                [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
        if not ok:
            raise RuntimeError("the JPEG encoder refused the picture")
        self.preview.hold(jpeg.tobytes())
        self._last_t = shown.t

    def close(self) -> None:
        self.preview.forget()
