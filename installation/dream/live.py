"""The live dream effect: DeepDream on the camera picture, fed back from frame to frame.

Each frame starts from the last dream, warped along the optical flow from the last camera
picture to this one (so the dream sticks to what it grew on), blended with the new camera
picture by how much each region moved: where a visitor stands still the dream carries on
and deepens; where they move it dissolves back to the camera and starts again. An optional
slow zoom gives the classic endless dream for attract mode. The ascent itself (torch:
gradients with respect to the picture) is one network call (ascender.py): on this
machine's torch device, the GPU when there is one, or sent to a serving engine; the flow
and the feedback stay here with the dream's state.
"""

from __future__ import annotations

import cv2
import numpy as np

from installation.commands import DREAM_FIELDS
from installation.dream.config import DreamConfig
from installation.dream.ports import settings_vector
from installation.farneback import farneback, small_grey
from installation.motion.analyzer import bounded_analysis_size
from installation.motion.config import MotionConfig
from installation.pictures import resize_to
from installation.runtime import Network
from installation.section import with_value
from installation.stage import require_finite

# The flow is measured like the motion stage's (installation.farneback with its default
# settings, on a small grey picture of its analysis size), then scaled up to the scene's size.
FLOW = MotionConfig()
GAP_S = 1.0  # a pause longer than this (the scene was away) starts the dream afresh, s


class DreamEffect:
    """An `Effect`: the scene's camera picture dreamt at `size` (W, H) by `ascent` (the
    live dream's network, ascender.py: local or served)."""

    name = "dream"
    scalable = True

    def __init__(self, ascent: Network, cfg: DreamConfig, size: tuple[int, int]) -> None:
        self.ascent, self.cfg, self.size = ascent, cfg, size
        self.attract = False  # set from the main thread when attract mode starts and ends
        self._last: np.ndarray | None = None  # the last dream, float32 HxWx3 0..255
        self._grey: np.ndarray | None = None  # the last camera picture, small grey
        self._t: float | None = None
        self._frame = 0
        self.resize(size)

    def resize(self, size: tuple[int, int]) -> None:
        """A new size: a new pixel grid, and the dream starts afresh (the last one was
        dreamt at the old size)."""
        self.size = size
        w, h = size
        self._xs, self._ys = np.meshgrid(np.arange(w, dtype=np.float32),
                                         np.arange(h, dtype=np.float32))  # pixel grid, px
        self.reset()

    def reset(self) -> None:
        self._last = self._grey = self._t = None

    @property
    def layers(self) -> dict[int, float]:
        """The blocks dreamt on and their weights."""
        return self.cfg.weights()

    def tune(self, field: str, value: float) -> None:
        """One setting changed live (OSC); ValueError when out of its range."""
        self.cfg = with_value(self.cfg, field, value)

    def settings(self) -> dict[str, float]:
        return {f: float(getattr(self.cfg, f)) for f in DREAM_FIELDS}

    def set_attract(self, on: bool) -> None:
        """Attract mode on or off: with `zoom = "attract"` the dream zooms while it is on."""
        self.attract = on

    @property
    def zooming(self) -> bool:
        """Whether the dream zooms now (by `zoom`, and attract mode for "attract")."""
        when = {"off": False, "always": True, "attract": self.attract}[self.cfg.zoom]
        return when and self.cfg.zoom_per_s > 0

    def start_from(self, camera: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        """The picture this frame dreams on (float32 0..255, at the scene's size) and how
        much of the last dream each pixel keeps (0..1), from a camera picture."""
        camera = resize_to(camera, self.size)
        cam = camera.astype(np.float32)
        w, h = self.size
        small = bounded_analysis_size(FLOW, w, h)
        # Grey at the scene's size, then shrunk (the motion stage shrinks first: the same
        # picture give or take one grey level, for less work).
        grey = small_grey(cv2.cvtColor(camera, cv2.COLOR_RGB2GRAY), small)
        last, prev, t_prev = self._last, self._grey, self._t
        self._grey, self._t = grey, t
        if last is None or prev is None or t_prev is None or not 0 <= t - t_prev <= GAP_S:
            return cam, np.zeros((h, w), np.float32)
        # Flow from this picture back to the last one: where each pixel came from.
        flow = farneback(grey, prev, FLOW)
        flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR) * (w / small[0])
        map_x, map_y = self._xs + flow[..., 0], self._ys + flow[..., 1]
        if self.zooming:  # look a little further in each second
            k = 1.0 / (1.0 + self.cfg.zoom_per_s * max(0.0, t - t_prev))
            map_x = (map_x - w / 2) * k + w / 2
            map_y = (map_y - h / 2) * k + h / 2
        warped = cv2.remap(last, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        speed = np.hypot(flow[..., 0], flow[..., 1])  # px/frame at the scene's size
        keep = self.cfg.feedback * np.clip(1.0 - speed / self.cfg.reset_px, 0.0, 1.0)
        keep = cv2.GaussianBlur(keep, (0, 0), 3)  # soft edges between kept and reset
        return keep[..., None] * warped + (1.0 - keep[..., None]) * cam, keep

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        start, _ = self.start_from(image, t)
        self._frame += 1
        picture = np.ascontiguousarray(start.transpose(2, 0, 1), np.float32)[np.newaxis]
        (out,) = self.ascent.run({"picture": picture,
                                  "settings": settings_vector(self.cfg, self._frame)})
        result = np.ascontiguousarray(out[0].transpose(1, 2, 0), np.float32)
        if not np.isfinite(result).all():
            self.reset()  # never feed a NaN back: the next frame dreams afresh
            require_finite(result, "live dream output")
        self._last = np.clip(result, 0.0, 255.0, out=result)  # 0..255 whoever dreamt it
        return (result + 0.5).astype(np.uint8)

    def step_style(self, delta: int, t: float) -> None:
        """Nothing to step: a dream scene has one look (its layers)."""

    def describe(self) -> str:
        return "dream " + "+".join(f"{k}:{w:g}" for k, w in self.cfg.layers.items())
