"""Visitors from camera frames: the perception stage's work, one analysed frame at a time.

    frame ─► small picture ─┬─► background subtraction ─┐
                            └─► person network ─────────┴─► fused mask ─► blobs ─► tracks
    tracks ─► visitors (fractions, body heights/s) ─► energy (auto gain), presence, crowd
    tracks' silhouettes ─► smoothed in time, feathered ─► the visitor mask

Every smoothing is exponential with a time constant in seconds applied with the real time
between frames, and speeds are per second, so nothing depends on the camera's frame rate.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Protocol

import cv2
import numpy as np

from installation.perception.background import Foreground
from installation.perception.blobs import find_blobs, fuse
from installation.perception.config import PerceptionConfig
from installation.perception.gain import AutoGain, above_floor
from installation.perception.tracker import Track, Tracker, smoothing
from installation.perception.visitors import CENTRE, Visitor, Visitors

log = logging.getLogger(__name__)

MOST_SIDE = 640  # no side of the analysis picture is longer, px
LEAST_SIDE = 8  # nor shorter, px
HOLD = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))  # the room learns clear of them
FACE_NEAR = 0.3  # faces are looked for once a visitor is this tall (near the camera)
SETTLED_S = 1.0  # a visitor counts in full in the energy once seen this long, s
FACE_TOP = 0.4  # a face in this top share of a visitor's box is their head


class PersonNetwork(Protocol):
    """A person segmentation network (`segmentation.Segmenter`)."""

    def probability(self, rgb: np.ndarray) -> np.ndarray: ...


class FaceBoxes(Protocol):
    """A face detector (`faces.FaceDetector`): boxes (left, top, right, bottom) as
    fractions of the picture."""

    def boxes(self, rgb: np.ndarray) -> list[tuple[float, float, float, float]]: ...


def analysis_size(width: int, frame_w: int, frame_h: int) -> tuple[int, int]:
    """(w, h) of the analysis picture: `width` wide, the camera's aspect, no side over
    MOST_SIDE or under LEAST_SIDE, px."""
    frame_w, frame_h = max(1, frame_w), max(1, frame_h)
    w, h = width, round(width * frame_h / frame_w)
    if h > MOST_SIDE:
        w, h = round(MOST_SIDE * frame_w / frame_h), MOST_SIDE
    return max(LEAST_SIDE, min(w, MOST_SIDE)), max(LEAST_SIDE, min(h, MOST_SIDE))


def typical_motion(visitors: list[Visitor]) -> float:
    """The visitors' motion, body heights/s: their mean weighted by height and by how long
    they have been seen (up to `SETTLED_S`). Weighting by height keeps the figure the same
    when the whole scene is farther away (every height shrinks alike) while a speck of
    noise or a fragment of someone counts for little; a new track counts in over a second."""
    weights = [v.height * min(v.age_s / SETTLED_S, 1.0) for v in visitors]
    total = sum(weights)
    if not total > 0.0:
        return 0.0
    return sum(w * v.motion for w, v in zip(weights, visitors, strict=True)) / total


class Perceiver:
    """Turns successive camera frames into `Visitors`. Not thread-safe: one caller.

    `segmenter` / `faces`: the person and face networks, or None (background subtraction
    alone; heads from silhouettes); `missing`: why the person network is not there, said
    in the frame state. A network that raises is dropped for good, said once.
    """

    def __init__(self, cfg: PerceptionConfig | None = None,
                 segmenter: PersonNetwork | None = None, faces: FaceBoxes | None = None,
                 missing: str = "") -> None:
        self.cfg = cfg or PerceptionConfig()
        self.segmenter = segmenter
        self.faces = faces
        self.missing = missing if segmenter is None else ""
        self.reset()

    def reset(self) -> None:
        """Forget everything seen: the next frame starts a new room."""
        self.foreground = Foreground(self.cfg)
        self.tracker = Tracker(self.cfg)
        self.gain = AutoGain(self.cfg)
        self._shape: tuple[int, ...] = ()
        self._size = (0, 0)
        self._t: float | None = None
        self._t_seen = -math.inf  # when a visitor was last there, s
        self._hold: np.ndarray | None = None
        self._mask = np.zeros((1, 1), np.float32)
        self._last = Visitors(segmenter=self.missing)

    @property
    def size(self) -> tuple[int, int]:
        """(w, h) of the analysis picture, px; (0, 0) before the first frame."""
        return self._size

    def update(self, rgb: np.ndarray, t: float) -> Visitors:
        """Analyse `rgb` (HxWx3 uint8 RGB) captured at `t` (monotonic s). A frame sooner
        than 1 / `rate_hz` after the last analysed one (or not after it) changes nothing:
        the last `Visitors` come back as they are."""
        t0 = time.perf_counter()
        if rgb.shape != self._shape:
            self.reset()
            self._shape = rgb.shape
            self._size = analysis_size(self.cfg.width, rgb.shape[1], rgb.shape[0])
            self._mask = np.zeros(self._size[::-1], np.float32)
        elif self._t is not None and not t - self._t >= 1.0 / self.cfg.rate_hz:
            return self._last
        dt = 0.0 if self._t is None else t - self._t
        self._t = t
        small = cv2.resize(rgb, self._size, interpolation=cv2.INTER_AREA)
        fg = self.foreground.update(small, self._hold, dt)
        person = self._person(small)
        blobs, labels = find_blobs(*fuse(fg, person, self.cfg), self.cfg)
        tracks = self.tracker.update(blobs, t)
        self._silhouettes(tracks, labels, [b.label for b in blobs], dt)
        visitors = self._visitors(tracks, small)
        self._last = self._signals(visitors, t, dt, (time.perf_counter() - t0) * 1000.0)
        return self._last

    # -- steps -------------------------------------------------------------------------------

    def _person(self, small: np.ndarray) -> np.ndarray | None:
        """The network's person probability at the analysis size, or None without one."""
        if self.segmenter is None:
            return None
        try:
            return self.segmenter.probability(small)
        except Exception as exc:  # any failure of the network: background subtraction alone
            self.segmenter = None
            self.missing = f"person network failed ({type(exc).__name__}: {exc})"[:200]
            log.warning("%s: background subtraction alone from now on", self.missing)
            return None

    def _silhouettes(self, tracks: list[Track], labels: np.ndarray, ids: list[int],
                     dt: float) -> None:
        """The visitors' silhouettes into the smoothed mask; where they stand into `_hold`
        (the background does not learn there; not for visitors still so long that they may
        be a thing left in the room)."""
        seen = [ids[tr.blob] for tr in tracks if tr.blob >= 0]
        held = [ids[tr.blob] for tr in tracks
                if tr.blob >= 0 and tr.still_s < self.cfg.still_forget_s]
        now = np.isin(labels, seen).astype(np.float32) if seen else np.zeros_like(self._mask)
        a = smoothing(dt, self.cfg.mask_tau_s) if dt > 0 else 1.0
        cv2.accumulateWeighted(now, self._mask, a)
        self._hold = cv2.dilate(np.isin(labels, held).view(np.uint8), HOLD) if held else None

    def _visitors(self, tracks: list[Track], small: np.ndarray) -> list[Visitor]:
        """The confirmed tracks as `Visitor`s (fractions, body heights/s), heads on faces
        where the face network finds one near the top of a visitor near the camera."""
        w, h = self._size
        faces = self._faces(small) if any(tr.h >= FACE_NEAR * h for tr in tracks) else []
        out = []
        for tr in tracks:
            hx, hy = (tr.cx + tr.head[0]) / w, (tr.cy + tr.head[1]) / h
            left, top = (tr.cx - tr.w / 2) / w, (tr.cy - tr.h / 2) / h
            right, cap = left + tr.w / w, top + FACE_TOP * tr.h / h
            face = next(((0.5 * (f[0] + f[2]), 0.5 * (f[1] + f[3])) for f in faces
                         if left <= 0.5 * (f[0] + f[2]) <= right
                         and top - 0.05 <= 0.5 * (f[1] + f[3]) <= cap), None)
            out.append(Visitor(
                id=tr.id, x=tr.cx / w, y=tr.cy / h, head=face or (hx, hy),
                height=tr.h / h, width=tr.w / w,
                vx=tr.vx / max(tr.h, 1.0), vy=tr.vy / max(tr.h, 1.0), motion=tr.motion,
                age_s=max(tr.seen - tr.born, 0.0), still_s=tr.still_s, face=face is not None,
            ))
        return out

    def _faces(self, small: np.ndarray) -> list[tuple[float, float, float, float]]:
        if self.faces is None:
            return []
        try:
            return self.faces.boxes(small)
        except Exception as exc:  # heads from silhouettes alone
            self.faces = None
            log.warning("face network failed (%s: %s): heads from silhouettes from now on",
                        type(exc).__name__, exc)
            return []

    def _signals(self, visitors: list[Visitor], t: float, dt: float, ms: float) -> Visitors:
        """The walk's signals from the visitors of this frame."""
        cfg, prev = self.cfg, self._last
        n = len(visitors)
        if n:
            self._t_seen = t
        raw = above_floor(typical_motion(visitors), cfg.noise_floor)
        energy = self.gain.update(raw, dt)
        present = 1.0 if t - self._t_seen <= cfg.presence_hold_s else 0.0
        a = smoothing(dt, cfg.presence_tau_s) if dt > 0 else 0.0
        centroid, direction, coherence = CENTRE, (0.0, 0.0), 0.0
        if n:
            centroid = (sum(v.x for v in visitors) / n, sum(v.y for v in visitors) / n)
            mx, my = sum(v.vx for v in visitors) / n, sum(v.vy for v in visitors) / n
            mean_speed = sum(math.hypot(v.vx, v.vy) for v in visitors) / n
            if mean_speed > cfg.noise_floor:
                length = math.hypot(mx, my)
                direction = (mx / length, my / length) if length > 0 else (0.0, 0.0)
                coherence = min(length / mean_speed, 1.0)
        k = 2 * cfg.feather_px + 1
        mask = cv2.GaussianBlur(self._mask, (k, k), 0) if k > 1 else self._mask.copy()
        return Visitors(
            visitors=tuple(visitors), mask=np.asarray(mask, np.float32),
            energy_raw=raw, energy=energy, gain=self.gain.gain,
            presence=prev.presence + a * (present - prev.presence),
            centroid=centroid, direction=direction, coherence=coherence,
            crowd=min(n / cfg.crowd_full, 1.0), segmenter=self.missing, t=t, ms=ms,
        )
