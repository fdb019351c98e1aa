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
   e.g. a light switched on or a scene cut). Softened by a small blur towards the trusted
   side only (a pixel never gets more trust than it had: no ghost fringe at occlusions).
4. **Blend.** out = a · warp(last out) + (1 − a) · new, with a = `strength` × trust: where the
   warp is trusted the picture carries on (moving with the visitor), elsewhere it is the
   fresh output. The last output is kept in float, so repeated blending does not creep by
   rounding, and carried bicubically: bilinear resampling, repeated every frame, blurs
   moving strokes (`flicker` reports the detail kept).

Steps 2 and 3 and the warp of the last output need only the camera pictures, so they run
on a helper thread while the network paints (`HELPER`): on a GPU the flow is then free,
and on a CPU it fills the gaps the network leaves. A flow that fails, or takes longer than
`FLOW_TIMEOUT_S`, costs that frame its blending (logged), never the frame; while a job
given up on still runs, frames are shown unblended rather than queued behind it. A pause longer
than `GAP_S` (the scene was away) starts afresh; a new size (adaptive resolution) carries
the last frame over, resized.

`strength` is per frame: at 0.94 a new style is 90 % in after 37 frames (1.2 s at 30
frames/s, 2.5 s at 15).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Generic, NamedTuple, TypeVar

import cv2
import numpy as np

from installation.pictures import interpolation
from installation.temporal.config import TemporalConfig
from installation.temporal.flow import Flow, Grid, channel_mean, grey
from installation.temporal.helper import Helper

log = logging.getLogger(__name__)

GAP_S = 1.0  # a pause longer than this starts afresh, s
FLOW_TIMEOUT_S = 0.5  # a flow job slower than this is given up for its frame, s
TRUST_BLUR_PX = 1.5  # softens the trust mask's edges (Gaussian sigma), px
STEADY_BLUR_PX = 1.0  # the camera difference is judged on a picture blurred this much, px
HELPER = Helper("temporal-flow")
Pic = TypeVar("Pic")  # a picture: a numpy array, or a torch tensor on a device


class Last(NamedTuple, Generic[Pic]):
    """The last frame, as one record: replaced whole, so a reader never mixes two frames."""

    steady: Pic  # the steady camera picture (numpy: uint8 HxWx3)
    grey: np.ndarray  # ... in grey, uint8 HxW, on the host (the flow's input)
    out: Pic  # the output shown, in float 0..255 (numpy: float32 HxWx3)


Carried = tuple[Pic, Pic]  # (keep, the last output warped onto this frame)


class Steadier(Generic[Pic]):
    """What both stabilisers share: the frame's order of work, the tickets, the pause
    and resize rules. `Pic` is where the pictures live: numpy arrays on the host
    (`Stabiliser`, the reference) or torch tensors on the painting network's device
    (temporal/on_device.py). Called from the effect thread; `on` may be set from another
    thread (a bool: the next frame reads it). A call the watchdog gave up on may still
    finish later: it then changes nothing (each call holds a ticket, and only a call newer
    than the last one remembered is remembered)."""

    device: str | None = None  # the torch device the blending runs on; None: the host

    def __init__(self, cfg: TemporalConfig, size: tuple[int, int]) -> None:
        self.cfg = cfg
        self.on = cfg.enabled
        self.kept = 0.0  # mean share of the last output kept in the last frame, 0..1
        self.unblended = 0  # frames shown unblended: the flow failed, was late or still ran
        self._flow = Flow(cfg.flow)
        self._lock = threading.Lock()  # guards the tickets and the remembered frame
        self._ticket = 0  # the latest call's
        self._remembered = 0  # the ticket of the call whose frame is `_last`
        self._held: Pic | None = None  # the steady camera picture, in float
        self._last: Last[Pic] | None = None
        self._t: float | None = None  # the last call's show time, s
        self.grid = Grid(size)

    # -- what each stabiliser does in its own kind of picture ---------------------------

    def steady(self, picture: np.ndarray) -> Pic:
        """The camera picture (uint8 HxWx3, host) held where it changed by less than
        `noise` grey levels."""
        raise NotImplementedError

    def grey_of(self, steady: Pic) -> np.ndarray:
        """The steady picture in grey, uint8 HxW on the host."""
        raise NotImplementedError

    def painted(self, paint: Callable[[Pic], Pic], steady: Pic) -> Pic:
        """`paint` on the steady picture, at its size, in float 0..255 (a fresh array)."""
        raise NotImplementedError

    def carry(self, grid: Grid, last: Last[Pic], steady: Pic, g: np.ndarray) -> Carried[Pic]:
        """The last output carried along the flow onto this frame, and how much of it to
        keep at each pixel (0..`strength`); on `grid`, the one of the call that asked (a
        resize cannot change it under the job)."""
        raise NotImplementedError

    def mix(self, out: Pic, carried: Carried[Pic] | None) -> tuple[np.ndarray, float]:
        """`out` blended in place with the `carried` last output: the uint8 HxWx3 picture
        on the host, and the mean share kept."""
        raise NotImplementedError

    def sized(self, picture: Pic, size: tuple[int, int], interp: int) -> Pic:
        """`picture` resized to `size` (W, H) px."""
        raise NotImplementedError

    # -- the shared order of work -------------------------------------------------------

    def resize(self, size: tuple[int, int]) -> None:
        """Work at `size` (W, H) px from the next frame; the last frame is carried over,
        resized, so the picture does not pop when adaptive resolution changes rung."""
        interp = interpolation(self.grid.size, size)
        self.grid = Grid(size)
        with self._lock:
            self._remembered = self._ticket  # a call still running belongs to the old size
            last, held = self._last, self._held
            if last is not None:
                self._last = Last(self.sized(last.steady, size, interp),
                                  cv2.resize(last.grey, size, interpolation=interp),
                                  self.sized(last.out, size, interp))
            if held is not None:
                self._held = self.sized(held, size, interp)

    def reset(self) -> None:
        """Forget the last frame: the next output is shown as painted."""
        with self._lock:
            self._held = self._last = self._t = None
            self._remembered = self._ticket  # nothing from before is remembered later
            self.kept = 0.0

    def __call__(self, picture: np.ndarray, t: float, paint: Callable[[Pic], Pic]
                 ) -> np.ndarray:
        """`paint` run on the steady `picture` (HxWx3 uint8 at the grid's size) and blended
        with the last output; `paint` alone when the stabiliser is off."""
        if not self.on:
            if self._t is not None:
                self.reset()
            return self.plain(picture, paint)
        if self._t is not None and not 0.0 <= t - self._t <= GAP_S:
            self.reset()
        with self._lock:
            self._ticket += 1
            ticket, last, grid = self._ticket, self._last, self.grid
            self._t = t
        steady = self.steady(picture)
        g = self.grey_of(steady)
        carrying = self._carry_later(grid, last, steady, g)
        output = self.painted(paint, steady)  # if it raises, the flow job finishes alone
        return self.blend(ticket, Last(steady, g, output), self._collect(carrying))

    def plain(self, picture: np.ndarray, paint: Callable[[Pic], Pic]) -> np.ndarray:
        """`paint` on the picture as it is, unblended (the stabiliser is off)."""
        raise NotImplementedError

    def _carry_later(self, grid: Grid, last: Last[Pic] | None, steady: Pic, g: np.ndarray
                     ) -> Future[Carried[Pic]] | None:
        """The flow job for this frame, on the helper thread; None with no last frame of
        this size, or while a job given up on still runs (never queue behind it)."""
        if last is None or last.grey.shape != g.shape or grid.size != (g.shape[1], g.shape[0]):
            return None
        if HELPER.busy():
            self.unblended += 1
            log.warning("temporal: an earlier optical flow is still running; this frame is "
                        "shown unblended")
            return None
        return HELPER.submit(self.carry, grid, last, steady, g)

    def _collect(self, carrying: Future[Carried[Pic]] | None) -> Carried[Pic] | None:
        if carrying is None:
            return None
        try:
            return carrying.result(timeout=FLOW_TIMEOUT_S)
        except FutureTimeout:
            log.warning("temporal: the optical flow took over %.1f s; this frame is shown "
                        "unblended", FLOW_TIMEOUT_S)
        except Exception as exc:  # a broken flow costs the blend, never the frame
            log.warning("temporal: the optical flow failed (%s); this frame is shown "
                        "unblended", exc)
        self.unblended += 1
        return None

    def blend(self, ticket: int, this: Last[Pic], carried: Carried[Pic] | None) -> np.ndarray:
        """This frame's output (uint8) blended with the `carried` last one (made from a last
        frame of this size: `_carry_later`); remembered as the last frame, its output the
        blended one, unless a newer call already was."""
        shown, kept = self.mix(this.out, carried)
        with self._lock:
            if ticket > self._remembered:
                self._last, self._remembered, self.kept = this, ticket, kept
        return shown


class Stabiliser(Steadier[np.ndarray]):
    """The stabiliser in numpy and OpenCV on the host: the reference."""

    def plain(self, picture: np.ndarray, paint: Callable[[np.ndarray], np.ndarray]
              ) -> np.ndarray:
        return paint(picture)

    def grey_of(self, steady: np.ndarray) -> np.ndarray:
        return grey(steady)

    def painted(self, paint: Callable[[np.ndarray], np.ndarray], steady: np.ndarray
                ) -> np.ndarray:
        output = paint(steady)
        if output.shape[:2] != steady.shape[:2]:
            output = cv2.resize(output, (steady.shape[1], steady.shape[0]),
                                interpolation=cv2.INTER_AREA)
        return output.astype(np.float32)

    def sized(self, picture: np.ndarray, size: tuple[int, int], interp: int) -> np.ndarray:
        return cv2.resize(picture, size, interpolation=interp)

    def steady(self, picture: np.ndarray) -> np.ndarray:
        """The camera picture held where it changed by less than `noise` grey levels."""
        noise, held = self.cfg.noise, self._held
        if noise <= 0.0:
            return picture.copy()  # kept as the last picture: not the caller's array
        new = picture.astype(np.float32)
        if held is None or held.shape != new.shape:
            self._held = new
            return picture.copy()
        delta = new - held
        change = channel_mean(np.abs(cv2.GaussianBlur(delta, (0, 0), STEADY_BLUR_PX)))
        take = np.clip(change / noise - 1.0, 0.0, 1.0)  # 0 up to noise, 1 from twice it
        held = held + take[..., None] * delta
        self._held = held
        return np.clip(held + 0.5, 0, 255).astype(np.uint8)

    def trust(self, grid: Grid, last: Last[np.ndarray], steady: np.ndarray, back: np.ndarray,
              forward: np.ndarray) -> np.ndarray:
        """float32 HxW 0..1: how far the last output carried along `back` may stand for
        this frame (see the module doc, step 3)."""
        trust = np.exp(-grid.round_trip(back, forward))  # exp(-inf) = 0 off the edge
        carried = grid.warp(last.steady, back)
        diff = channel_mean(cv2.absdiff(carried, steady))
        trust *= np.exp(-np.square(diff / self.cfg.change))
        return np.minimum(trust, cv2.GaussianBlur(trust, (0, 0), TRUST_BLUR_PX))

    def carry(self, grid: Grid, last: Last[np.ndarray], steady: np.ndarray, g: np.ndarray
              ) -> Carried[np.ndarray]:
        back, forward = self._flow(g, last.grey), self._flow(last.grey, g)
        keep = self.cfg.strength * self.trust(grid, last, steady, back, forward)
        return keep, grid.warp(last.out, back, cv2.INTER_CUBIC)

    def mix(self, out: np.ndarray, carried: Carried[np.ndarray] | None
            ) -> tuple[np.ndarray, float]:
        kept = 0.0
        if carried is not None:
            keep, last = carried
            kept = float(keep.mean())
            out += keep[..., None] * (last - out)
            np.clip(out, 0.0, 255.0, out=out)  # bicubic overshoots a little at edges
        return (out + 0.5).astype(np.uint8), kept
