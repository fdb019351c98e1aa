"""Flow-guided temporal blending: a still visitor stays painted the same way.

Per-frame repainting re-rolls its strokes every frame: sensor noise and sub-pixel shifts
change the network's input a little and its output a lot. Each frame, at the effect's
processing size:

1. **Steady input.** Where the camera picture differs from the held one by less than
   `noise` grey levels (judged on a lightly blurred difference, so single-pixel noise
   averages out) the held picture stays; from `noise` to twice it the new one fades in; above
   that it takes over. The network sees the held picture, so a still room gives it the same
   input and the same strokes every frame.
2. **Flow.** Optical flow both ways between the last and this steady picture (`flow.Flow`).
3. **Trust.** How far the last output, carried along the back flow, may stand for this
   frame: falls off with the flow's round-trip miss (occlusions, wrong matches: see
   `flow.Grid.round_trip`), is zero where the flow leaves the picture, and falls off with the
   camera difference along the flow (`change` grey levels: the scene really changed there,
   e.g. a light switched on or a scene cut). Softened by a small blur.
4. **Blend.** out = a · warp(last out) + (1 − a) · new, with a = `strength` × trust: where the
   warp is trusted the picture carries on (moving with the visitor), elsewhere it is the
   fresh output. The last output is kept in float, so repeated blending does not creep by
   rounding, and carried bicubically: bilinear resampling, repeated every frame, blurs
   moving strokes (`flicker` reports the detail kept).

Steps 2 and 3 and the warp of the last output need only the camera pictures, so they run
on a helper thread while the network paints (`_HELPER`): on a GPU the flow is then free,
and on a CPU it fills the gaps the network leaves. A pause longer than `GAP_S` (the scene
was away) or a new size starts afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import cv2
import numpy as np

from installation.temporal.config import TemporalConfig
from installation.temporal.flow import Flow, Grid, channel_mean, grey

GAP_S = 1.0  # a pause longer than this starts afresh, s
TRUST_BLUR_PX = 1.5  # softens the trust mask's edges (Gaussian sigma), px
STEADY_BLUR_PX = 1.0  # the camera difference is judged on a picture blurred this much, px
# One helper thread for every stabiliser: one scene's effect runs at a time, and a frame
# waits for its own flow before the next is started.
_HELPER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="temporal-flow")


class Stabiliser:
    """Runs a painting function on a steady camera picture and blends its output with the
    last one along the flow. One caller at a time (the effect thread); `on` may be set from
    another thread (a bool: the next frame reads it)."""

    def __init__(self, cfg: TemporalConfig, size: tuple[int, int]) -> None:
        self.cfg = cfg
        self.on = cfg.enabled
        self.kept = 0.0  # mean share of the last output kept in the last frame, 0..1
        self._flow = Flow(cfg.flow)
        self.resize(size)

    def resize(self, size: tuple[int, int]) -> None:
        """Work at `size` (W, H) px from the next frame: a new grid, a fresh start."""
        self.grid = Grid(size)
        self.reset()

    def reset(self) -> None:
        """Forget the last frame: the next output is shown as painted."""
        self._held: np.ndarray | None = None  # the steady camera picture, float32 HxWx3
        self._last_in: np.ndarray | None = None  # the last steady picture, uint8 HxWx3
        self._last_grey: np.ndarray | None = None
        self._last_out: np.ndarray | None = None  # the last output, float32 HxWx3
        self._t: float | None = None
        self.kept = 0.0

    def __call__(self, picture: np.ndarray, t: float,
                 paint: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """`paint` run on the steady `picture` (HxWx3 uint8 at the grid's size) and blended
        with the last output; `paint` alone when the stabiliser is off."""
        if not self.on:
            if self._t is not None:
                self.reset()
            return paint(picture)
        if self._t is not None and not 0.0 <= t - self._t <= GAP_S:
            self.reset()
        self._t = t
        steady = self.steady(picture)
        g = grey(steady)
        carrying: Future[tuple[np.ndarray, np.ndarray]] | None = None
        if self._last_out is not None and self._last_grey is not None \
                and self._last_grey.shape == g.shape:
            carrying = _HELPER.submit(self.carry, steady, g)  # while the network paints
        try:
            output = paint(steady)
        finally:
            carried = carrying.result() if carrying is not None else None
        if output.shape[:2] != steady.shape[:2]:
            output = cv2.resize(output, self.grid.size, interpolation=cv2.INTER_AREA)
        return self.blend(steady, g, output, carried)

    def steady(self, picture: np.ndarray) -> np.ndarray:
        """The camera picture held where it changed by less than `noise` grey levels."""
        new = picture.astype(np.float32)
        noise = self.cfg.noise
        if self._held is None or noise <= 0.0 or self._held.shape != new.shape:
            self._held = new
            return picture.copy()  # kept as the last picture: not the caller's array
        delta = new - self._held
        change = channel_mean(np.abs(cv2.GaussianBlur(delta, (0, 0), STEADY_BLUR_PX)))
        take = np.clip(change / noise - 1.0, 0.0, 1.0)  # 0 up to noise, 1 from twice it
        self._held += take[..., None] * delta
        return np.clip(self._held + 0.5, 0, 255).astype(np.uint8)

    def trust(self, steady: np.ndarray, back: np.ndarray, forward: np.ndarray) -> np.ndarray:
        """float32 HxW 0..1: how far the last output carried along `back` may stand for
        this frame (see the module doc, step 3)."""
        assert self._last_in is not None
        trust = np.exp(-self.grid.round_trip(back, forward))  # exp(-inf) = 0 off the edge
        carried = self.grid.warp(self._last_in, back)
        diff = channel_mean(cv2.absdiff(carried, steady))
        trust *= np.exp(-np.square(diff / self.cfg.change))
        return cv2.GaussianBlur(trust, (0, 0), TRUST_BLUR_PX)

    def carry(self, steady: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The last output carried along the flow onto this frame (float32 HxWx3), and how
        much of it to keep at each pixel (float32 HxW, 0..`strength`)."""
        assert self._last_grey is not None and self._last_out is not None
        back, forward = self._flow(g, self._last_grey), self._flow(self._last_grey, g)
        keep = self.cfg.strength * self.trust(steady, back, forward)
        return keep, self.grid.warp(self._last_out, back, cv2.INTER_CUBIC)

    def blend(self, steady: np.ndarray, g: np.ndarray, output: np.ndarray,
              carried: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        """This frame's output (uint8) blended with the `carried` last one; remembered as
        the last frame."""
        out = output.astype(np.float32)
        if carried is not None and carried[1].shape == out.shape:
            keep, last = carried
            self.kept = float(keep.mean())
            out += keep[..., None] * (last - out)
            np.clip(out, 0.0, 255.0, out=out)  # bicubic overshoots a little at edges
        self._last_in, self._last_grey, self._last_out = steady, g, out
        return (out + 0.5).astype(np.uint8)
