"""How visitors move: dense optical flow on a small grey picture → normalised, smoothed signals.

Every smoothing is exponential with a time constant in seconds, applied with the real time
between updates (alpha = 1 - exp(-dt / tau)), and speeds are per second, so the signals do
not depend on the camera's frame rate. Flow below a noise floor is ignored, so a still
scene reads as zero however noisy the sensor; a global brightness change does not move the
flow (Farneback fits only the shape of the local intensity, not its level) and is
subtracted before comparing with the background.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from installation.farneback import farneback, small_grey
from installation.motion.config import MotionConfig

CENTRE = (0.5, 0.5)
MIN_DT_S = 1e-3  # two frames closer than this are treated as 1 ms apart, s
MOST_SIDE = 640  # no side of the analysis picture is longer, px (the config's widest)
LEAST_SIDE = 8  # nor shorter, px


def bounded_analysis_size(cfg: MotionConfig, frame_w: int, frame_h: int) -> tuple[int, int]:
    """The analysis picture's (width, height) for a camera frame of this size, px: the
    config's (`MotionConfig.analysis_size`), shrunk to fit MOST_SIDE x MOST_SIDE (keeping
    its aspect) when a side is longer, and no side under LEAST_SIDE. However tall or wide
    the source (16x4000, 4000x16), the working buffers stay under ~20 MB; the config's own
    sizes (160 wide by default) are never changed."""
    w, h = cfg.analysis_size(max(1, frame_w), max(1, frame_h))
    longer = max(w, h)
    if longer > MOST_SIDE:
        w, h = round(w * MOST_SIDE / longer), round(h * MOST_SIDE / longer)
    return min(max(w, LEAST_SIDE), MOST_SIDE), min(max(h, LEAST_SIDE), MOST_SIDE)


@dataclass(frozen=True, eq=False)  # compared by identity: it holds an array
class MotionSignals:
    """What the motion stage tells the rest of the piece about one analysed frame.

    Positions are fractions of the frame (x right, y down); `direction` is a unit vector in
    the same axes, (0, 0) until anything has moved. `mask` is float32 HxW 0..1 at the
    analysis size (see `bounded_analysis_size`) and belongs to the reader.
    """

    energy: float = 0.0  # smoothed motion energy, 0..1
    centroid: tuple[float, float] = CENTRE  # smoothed, where motion is; centre at rest
    direction: tuple[float, float] = (0.0, 0.0)  # unit vector of the smoothed mean motion;
    # keeps its last heading while `magnitude` fades at rest
    magnitude: float = 0.0  # how much motion goes one way (0..1), smoothed: 0 at rest
    mask: np.ndarray = field(default_factory=lambda: np.zeros((1, 1), np.float32), repr=False)
    presence: float = 0.0  # someone is there: 0..1, smoothed
    raw_energy: float = 0.0  # this frame's energy before smoothing, 0..1
    speed: float = 0.0  # this frame's mean speed over the picture, analysis px/s
    t: float = 0.0  # capture time of the analysed frame, monotonic s
    seq: int = 0  # sequence number of the analysed frame (set by the worker)
    ms: float = 0.0  # time spent analysing this frame, ms


def smoothing(dt: float, tau: float) -> float:
    """The exponential smoothing factor for a step of `dt` s with time constant `tau` s."""
    return 1.0 - math.exp(-dt / tau)


class MotionAnalyzer:
    """Turns successive camera frames into `MotionSignals`. Not thread-safe: one caller.

    Buffers are allocated on the first frame (and again only if the frame size changes);
    each update then runs in place on them, apart from the copy of the mask it hands out.
    """

    # Working buffers at the analysis size, float32 unless noted (see `_allocate`).
    _grey: np.ndarray  # this frame, grey uint8
    _prev: np.ndarray  # the last analysed frame, grey uint8
    _small: np.ndarray  # this frame shrunk, RGB uint8
    _flow: np.ndarray  # HxWx2, px/frame
    _mag: np.ndarray  # flow magnitude, px/frame
    _w: np.ndarray  # flow above the noise floor, px/frame
    _tmp: np.ndarray
    _mask: np.ndarray  # smoothed motion mask, 0..1
    _bg: np.ndarray  # learned background, grey levels
    _diff: np.ndarray
    _over: np.ndarray  # bool
    _still: np.ndarray  # uint8 0/1: where the background may learn
    _xs: np.ndarray  # pixel centres as fractions of the width
    _ys: np.ndarray  # ... and of the height

    def __init__(self, cfg: MotionConfig | None = None) -> None:
        self.cfg = cfg or MotionConfig()
        self._frame_shape: tuple[int, ...] = ()
        self.reset()

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the analysis picture, px; (0, 0) before the first frame."""
        return self._size

    def reset(self) -> None:
        """Forget every frame seen: the next update starts from rest (and a new background)."""
        self._size = (0, 0)
        self._frame_shape = ()
        self._t_prev: float | None = None
        self._t_moved = -math.inf  # when someone last counted as moving, s
        self._last = MotionSignals()
        self._centroid = CENTRE
        self._dir_vec = (0.0, 0.0)  # smoothed direction × magnitude
        self._heading = (0.0, 0.0)  # last non-zero unit direction

    # -- per frame ---------------------------------------------------------------------------

    def update(self, rgb: np.ndarray, t: float) -> MotionSignals:
        """Analyse `rgb` (HxWx3 uint8 RGB, or HxW grey) captured at `t` (monotonic s).

        A frame not at least `min_interval_s` after the last analysed one (or at the same
        time, or earlier) changes nothing: the last signals come back as they are.
        """
        t0 = time.perf_counter()
        cfg = self.cfg
        if rgb.shape != self._frame_shape:
            self._allocate(rgb.shape)
        elif self._t_prev is not None:
            dt = t - self._t_prev
            if dt <= 0.0 or dt < cfg.min_interval_s:
                # The same frame again, a clock going back, or too soon: the last signals
                # stand, and the next frame is compared with the older picture.
                return self._last
        self._to_grey(rgb)
        if self._t_prev is None:
            return self._seed(t, t0)
        dt = t - self._t_prev
        self._t_prev = t
        step = max(dt, MIN_DT_S)

        # How much: flow against the previous picture, with the sensor noise gated out.
        flow = self._flow_from_prev(dt)
        fx, fy = flow[..., 0], flow[..., 1]  # views, px/frame
        total = self._gate_noise(fx, fy)
        speed = total / self._w.size / step  # mean over the picture, px/s
        raw = min(speed / cfg.energy_scale, 1.0)  # this frame's energy, 0..1
        moving = self._moving(raw)

        # Where, which way, and whether anyone is there.
        where, way = self._where_and_which_way(fx, fy, total)
        self._smooth_mask(step)
        present = self._presence_now(raw, moving, t, step)

        # Smoothing towards this frame's targets; at rest they fall back to centre and zero.
        prev = self._last
        energy = prev.energy + smoothing(step, cfg.energy_tau_s) * (raw - prev.energy)
        magnitude = self._follow(step, moving, where, way)
        presence = prev.presence + smoothing(step, cfg.presence_tau_s) * (present - prev.presence)

        self._prev, self._grey = self._grey, self._prev  # the next frame's comparison
        self._last = MotionSignals(
            energy=energy, centroid=self._centroid, direction=self._heading,
            magnitude=min(magnitude, 1.0), mask=self._mask.copy(), presence=presence,
            raw_energy=raw, speed=speed, t=t, ms=(time.perf_counter() - t0) * 1000.0,
        )
        return self._last

    # -- the steps of an update, in order ----------------------------------------------------

    def _seed(self, t: float, t0: float) -> MotionSignals:
        """The first frame (in `_grey`, captured at `t` s; analysis began at perf-counter
        `t0` s): nothing to compare with, so it seeds the flow and the background."""
        self._prev, self._grey = self._grey, self._prev
        self._bg[...] = self._prev
        self._t_prev = t
        ms = (time.perf_counter() - t0) * 1000.0
        self._last = MotionSignals(mask=self._mask.copy(), t=t, ms=ms)
        return self._last

    def _flow_from_prev(self, dt: float) -> np.ndarray:
        """Dense flow from the last picture to this one, HxWx2 px/frame, written into
        `_flow`; all zero after a gap of more than `max_gap_s` (`dt`, s)."""
        flow: np.ndarray = self._flow
        if dt <= self.cfg.max_gap_s:
            flow = self._flow = farneback(self._prev, self._grey, self.cfg, out=flow)
        else:  # a stalled camera: the pictures are too far apart for flow to mean anything
            flow.fill(0.0)
        return flow

    def _gate_noise(self, fx: np.ndarray, fy: np.ndarray) -> float:
        """Flow magnitude into `_mag` and the noise-gated magnitude into `_w` (px/frame);
        returns the sum of `_w` over the picture, px/frame."""
        mag, w = self._mag, self._w
        np.multiply(fx, fx, out=mag)
        np.multiply(fy, fy, out=w)
        np.add(mag, w, out=mag)
        np.sqrt(mag, out=mag)
        # w: flow with the noise gated out, px/frame. Zero up to the floor, ramping to the
        # full flow at twice the floor: continuous, and unbiased above 2 x floor, so the
        # gate takes no bigger share of slow motion at one frame rate than at another.
        floor = self.cfg.noise_floor
        if floor > 0.0:
            np.subtract(mag, floor, out=w)
            np.multiply(w, 1.0 / floor, out=w)
            np.clip(w, 0.0, 1.0, out=w)
            np.multiply(w, mag, out=w)
        else:
            w[...] = mag
        return float(w.sum())

    def _moving(self, raw: float) -> float:
        """Confidence that someone moves, 0..1, from this frame's energy `raw` (0..1): zero
        below half the threshold (noise that got past the floor), one from the threshold up."""
        half = 0.5 * self.cfg.moving_energy
        return min(max((raw - half) / half, 0.0), 1.0)

    def _where_and_which_way(self, fx: np.ndarray, fy: np.ndarray, total: float
                             ) -> tuple[tuple[float, float], tuple[float, float]]:
        """The motion-weighted centroid (fractions of the frame) and mean unit direction,
        whose length is the motion's coherence (0..1); the centre and (0, 0) when nothing
        moved. Uses `_w` (gated flow), `_mag` and `_tmp` from `_gate_noise`."""
        if not total > 0.0:  # (not `<= 0`: a NaN total also reads as no motion)
            return CENTRE, (0.0, 0.0)
        w, tmp = self._w, self._tmp
        cx = float(w.sum(axis=0) @ self._xs) / total
        cy = float(w.sum(axis=1) @ self._ys) / total
        np.add(self._mag, 1e-6, out=tmp)
        np.divide(w, tmp, out=tmp)  # weight per unit of flow
        ux = float(np.einsum("ij,ij->", tmp, fx)) / total
        uy = float(np.einsum("ij,ij->", tmp, fy)) / total
        return (cx, cy), (ux, uy)

    def _smooth_mask(self, step: float) -> None:
        """Motion mask: speed relative to `mask_speed`, clipped at 1, then smoothed in time
        into `_mask` (`step`: s since the last frame)."""
        np.multiply(self._w, 1.0 / (step * self.cfg.mask_speed), out=self._tmp)
        np.minimum(self._tmp, 1.0, out=self._tmp)
        cv2.accumulateWeighted(self._tmp, self._mask, smoothing(step, self.cfg.mask_tau_s))

    def _presence_now(self, raw: float, moving: float, t: float, step: float) -> float:
        """Someone there in this frame, 0..1 before smoothing: moving now, moved within
        `presence_hold_s`, or the picture unlike the learned background."""
        if raw >= self.cfg.moving_energy:
            self._t_moved = t
        held = 1.0 if t - self._t_moved <= self.cfg.presence_hold_s else 0.0
        differs = self._background(step)
        return max(moving, held, differs)

    def _follow(self, step: float, moving: float, where: tuple[float, float],
                way: tuple[float, float]) -> float:
        """Smooth the centroid towards `where` and the direction vector towards `way`, both
        scaled by `moving` (so at rest they fall back to the centre and zero); keeps the
        last heading. Returns the smoothed direction's length, 0..~1."""
        (cx, cy), (ux, uy) = where, way
        a = smoothing(step, self.cfg.centroid_tau_s)
        tx = CENTRE[0] + moving * (cx - CENTRE[0])
        ty = CENTRE[1] + moving * (cy - CENTRE[1])
        self._centroid = (
            self._centroid[0] + a * (tx - self._centroid[0]),
            self._centroid[1] + a * (ty - self._centroid[1]),
        )
        a = smoothing(step, self.cfg.direction_tau_s)
        vx, vy = self._dir_vec
        vx += a * (moving * ux - vx)
        vy += a * (moving * uy - vy)
        self._dir_vec = (vx, vy)
        magnitude = math.hypot(vx, vy)
        if magnitude > 1e-6:
            self._heading = (vx / magnitude, vy / magnitude)
        return magnitude

    # -- helpers -----------------------------------------------------------------------------

    def _allocate(self, shape: tuple[int, ...]) -> None:
        """Buffers for frames of `shape`; a new size also restarts the analysis."""
        self.reset()
        self._frame_shape = shape
        w, h = bounded_analysis_size(self.cfg, shape[1], shape[0])
        self._size = (w, h)
        self._grey = np.zeros((h, w), np.uint8)
        self._prev = np.zeros((h, w), np.uint8)
        self._small = np.zeros((h, w, 3), np.uint8)
        self._flow = np.zeros((h, w, 2), np.float32)
        self._mag = np.zeros((h, w), np.float32)
        self._w = np.zeros((h, w), np.float32)
        self._tmp = np.zeros((h, w), np.float32)
        self._mask = np.zeros((h, w), np.float32)
        self._bg = np.zeros((h, w), np.float32)
        self._diff = np.zeros((h, w), np.float32)
        self._over = np.zeros((h, w), np.bool_)
        self._still = np.zeros((h, w), np.uint8)
        # Pixel centres as fractions of the frame, for the centroid.
        self._xs = ((np.arange(w, dtype=np.float32) + 0.5) / w).astype(np.float32)
        self._ys = ((np.arange(h, dtype=np.float32) + 0.5) / h).astype(np.float32)

    def _to_grey(self, rgb: np.ndarray) -> None:
        """Shrink first (INTER_AREA averages away sensor noise), then grey, then a light blur."""
        small_grey(rgb, self._size, self.cfg.blur_sigma_px, out=self._grey, scratch=self._small)

    def _background(self, step: float) -> float:
        """Compare with the learned background, then learn it where nothing moves; 0..1.

        The picture's overall brightness change (the median difference) is taken out first,
        so lights dimming or a cloud does not count as someone there. The background learns
        with `background_tau_s` wherever the motion mask is low, so a passer-by does not
        smear into it but a visitor who stands still fades into it over a few time constants.
        """
        cfg = self.cfg
        diff = self._diff
        np.subtract(self._grey, self._bg, out=diff, dtype=np.float32)
        level = float(np.median(diff[::4, ::4]))  # a sample is enough for the global shift
        np.subtract(diff, level, out=diff)
        np.abs(diff, out=diff)
        np.greater(diff, cfg.background_threshold, out=self._over)
        share = np.count_nonzero(self._over) / diff.size
        np.less(self._mask, 0.1, out=self._over)
        self._still[...] = self._over
        cv2.accumulateWeighted(self._grey, self._bg, smoothing(step, cfg.background_tau_s),
                               mask=self._still)
        return min(share / cfg.background_fraction, 1.0)
