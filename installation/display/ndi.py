"""NDI out: the shown picture published as an NDI source (ndi-python, which bundles the
NDI runtime), for Resolume, MadMapper, TouchDesigner or OBS on the room's network.

A sink of the show (`ThreadedSink`: its own thread, newest picture wins), so sending never
costs the loop a frame. Each picture is fitted to `[ndi]`'s size as the display fits it
(mirror, fit or fill), converted to RGBX and sent, at most `[ndi] fps` a second; its NDI
timecode is its show time (100 ns units), so a receiver can tell which picture it got.
NDI compresses (SpeedHQ): what arrives is within a few grey levels of what was sent.
"""

from __future__ import annotations

import logging
from typing import Any

import cv2
import numpy as np

from installation.display.config import NdiConfig
from installation.display.screen import ScreenFitter
from installation.display.sinks import Shown
from installation.errors import UserError

log = logging.getLogger(__name__)

TIMECODE_PER_S = 10_000_000  # NDI's timecode unit: 100 ns


def ndi_library() -> Any:
    """The NDI library, initialised; UserError in one line when it cannot be."""
    try:
        import NDIlib
    except ImportError as exc:  # not installed, or its runtime misses a system library
        raise UserError(f"ndi.enabled: the NDI library does not load ({str(exc)[:120]}): "
                        "pip install ndi-python (requirements.txt) and, on Debian, apt-get "
                        "install libavahi-client3; or set [ndi] enabled = false") from None
    if not NDIlib.initialize():
        raise UserError("ndi.enabled: the NDI runtime does not start on this CPU (it needs "
                        "SSE4.2); set [ndi] enabled = false")
    return NDIlib


class NdiSink:
    """Shown pictures → an NDI video source named `cfg.name`."""

    name = "ndi"
    writes = True  # it sends visitors' pictures onto the network: said while it runs

    def __init__(self, cfg: NdiConfig) -> None:
        self.ndi = ndi_library()
        settings = self.ndi.SendCreate()
        settings.ndi_name = cfg.name
        settings.clock_video = False  # the show sets the pace; NDI must not sleep here
        self._sender = self.ndi.send_create(settings)
        if self._sender is None:
            raise UserError(f"ndi: the source {cfg.name!r} cannot be created; set [ndi] "
                            "name to another, or enabled = false")
        self.size, self.every_s = (cfg.width, cfg.height), 1.0 / cfg.fps
        self.frame_rate = (round(cfg.fps * 1000), 1000)
        self._fitter = ScreenFitter(self.size)
        self._rgbx = np.full((cfg.height, cfg.width, 4), 255, np.uint8)
        self._last_t = float("-inf")  # show time of the last picture sent, s
        self.sent = 0
        log.info("ndi: sending %dx%d as %r", cfg.width, cfg.height, cfg.name)

    @property
    def source_name(self) -> str:
        """The full name receivers see ("HOST (name)")."""
        return str(self.ndi.send_get_source_name(self._sender).ndi_name)

    def send(self, shown: Shown) -> None:
        if shown.t - self._last_t < self.every_s * 0.999:
            return
        self._fitter.mirror, self._fitter.mode = shown.mirror, shown.fit
        cv2.cvtColor(self._fitter.apply(shown.picture), cv2.COLOR_RGB2RGBA, dst=self._rgbx)
        frame = self.ndi.VideoFrameV2()
        frame.data = self._rgbx
        frame.FourCC = self.ndi.FOURCC_VIDEO_TYPE_RGBX
        frame.frame_rate_N, frame.frame_rate_D = self.frame_rate
        frame.timecode = int(shown.t * TIMECODE_PER_S)
        self.ndi.send_send_video_v2(self._sender, frame)  # copied before it returns
        self._last_t = shown.t
        self.sent += 1

    def close(self) -> None:
        if self._sender is not None:
            self.ndi.send_destroy(self._sender)
            self._sender = None
