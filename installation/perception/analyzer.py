"""Visitors from camera frames: the perception stage's work, one analysed frame at a time.

    frame ─► small picture ─┬─► background subtraction ─┐
                            └─► person network ─────────┴─► fused mask ─► blobs ─► tracks
    tracks ─► visitors (fractions, body heights/s) ─► energy (auto gain), presence, crowd
    tracks' silhouettes ─► smoothed in time, feathered ─► the visitor mask

Every smoothing is exponential with a time constant in seconds applied with the real time
between frames, and speeds are per second, so nothing depends on the camera's frame rate.

The tracked visitors feed back: where they stand, the background does not learn (someone
who stops stays), and while the camera is moving (a bump, until the background settles
where it is now) the visitors coast on their velocities and are held by their boxes, so
the camera's motion is not theirs. Something still for `still_forget_s` is a thing: the
background learns it, and what the person network saw there is ignored from then on.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from typing import Protocol

import cv2
import numpy as np

from installation.perception.background import Foreground
from installation.perception.blobs import Blob, find_blobs, fuse
from installation.perception.config import PerceptionConfig
from installation.perception.gain import AutoGain, above_floor
from installation.perception.heads import FACE_NEAR, FaceBoxes, Heads
from installation.perception.tracker import Track, Tracker, smoothing
from installation.perception.visitors import CENTRE, Visitor, Visitors

log = logging.getLogger(__name__)

MOST_SIDE = 640  # no side of the analysis picture is longer, px
LEAST_SIDE = 8  # nor shorter, px
HOLD = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))  # the room learns clear of them
SETTLED_S = 1.0  # a visitor counts in full in the energy once seen this long, s
BOX_MARGIN = 0.1  # a coasting visitor's box grown by this share each way
PERSON_EVERY = 2  # the person network runs on every second analysed frame (its last answer
# stands between: people near the camera move little in 1/15 s, and it halves its cost)
EARLY = 0.1  # a frame this share of the period early still counts as on time (a camera at
# exactly `rate_hz` jitters, and i / fps clocks round either way)


class PersonNetwork(Protocol):
    """A person segmentation network (`segmentation.Segmenter`)."""

    def probability(self, rgb: np.ndarray) -> np.ndarray: ...


def analysis_size(width: int, frame_w: int, frame_h: int) -> tuple[int, int]:
    """(w, h) of the analysis picture: `width` wide (never wider than the camera: a small
    picture is not enlarged), the camera's aspect, no side over MOST_SIDE or under
    LEAST_SIDE, px."""
    frame_w, frame_h = max(1, frame_w), max(1, frame_h)
    width = min(width, frame_w)
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
    in the frame state. A network that raises is dropped for good, said once. With both,
    what the person network alone finds counts as someone there only with a face on it
    (`heads.py`); without the face network, the person network alone decides.
    """

    def __init__(self, cfg: PerceptionConfig | None = None,
                 segmenter: PersonNetwork | None = None, faces: FaceBoxes | None = None,
                 missing: str = "") -> None:
        self.cfg = cfg or PerceptionConfig()
        self.segmenter = segmenter
        self.heads = Heads(faces)
        self.missing = missing if segmenter is None else ""
        self.reset()

    def reset(self) -> None:
        """Forget everything seen: the next frame starts a new room."""
        self.foreground = Foreground(self.cfg)
        # A new room, but never an id that already named someone (HUD, /health).
        old: Tracker | None = getattr(self, "tracker", None)
        self.tracker = Tracker(self.cfg, 1 if old is None else old.next_id)
        self.gain = AutoGain(self.cfg)
        self._shape: tuple[int, ...] = ()
        self._size = (0, 0)
        self._t: float | None = None
        self._t_seen = -math.inf  # when a visitor was last there, s
        self._hold: np.ndarray | None = None
        self._ignored: np.ndarray | None = None  # where the network's finds are things
        self._ignored_at = -math.inf  # when the last thing was added there, s
        self._restarts = 0  # the background's restarts seen (a cut: a new room)
        self._mask = np.zeros((1, 1), np.float32)
        self._frames = 0  # analysed since the start or the last reset
        self._person_last: np.ndarray | None = None
        self._last = Visitors(segmenter=self.missing)
        self.heads.forget()

    @property
    def size(self) -> tuple[int, int]:
        """(w, h) of the analysis picture, px; (0, 0) before the first frame."""
        return self._size

    def update(self, rgb: np.ndarray, t: float) -> Visitors:
        """Analyse `rgb` (HxWx3 uint8 RGB) captured at `t` (monotonic s). A frame sooner
        than 1 / `rate_hz` after the last analysed one (less `EARLY` of that; or not after
        it) changes nothing: the last `Visitors` come back as they are."""
        t0 = time.perf_counter()
        if rgb.shape != self._shape:
            self.reset()
            self._shape = rgb.shape
            self._size = analysis_size(self.cfg.width, rgb.shape[1], rgb.shape[0])
            self._mask = np.zeros(self._size[::-1], np.float32)
        elif self._t is not None and not t - self._t >= (1.0 - EARLY) / self.cfg.rate_hz:
            return self._last
        dt = 0.0 if self._t is None else t - self._t
        self._t = t
        small = cv2.resize(rgb, self._size, interpolation=cv2.INTER_AREA)
        fg = self.foreground.update(small, self._hold, dt)
        if self.foreground.restarts != self._restarts:  # a cut: nothing is known there
            self._restarts, self._ignored = self.foreground.restarts, None
        if t - self._ignored_at > self.cfg.still_forget_s:  # looked at afresh: a seat
            self._ignored = None  # where someone sat still is not blind for ever
        person = self._person(small)
        if person is not None and self._ignored is not None:
            person = np.where(self._ignored != 0, np.float32(0.0), person)
        blobs, labels = find_blobs(*fuse(fg, person, self.cfg), self.cfg)
        self.heads.start_frame()
        blobs = self._confirm(blobs, rgb, t)
        moving = self.foreground.moving  # the camera: visitors and silhouettes coast
        tracks = self.tracker.update(blobs, t, self._size, coast=moving)
        if moving:  # where they stand now: their boxes, carried on their velocities
            self._hold = self._boxes(tracks)
        else:
            self._silhouettes(tracks, labels, blobs, dt)
        visitors = self._visitors(tracks, rgb, t)
        self._last = self._signals(visitors, t, dt, (time.perf_counter() - t0) * 1000.0)
        return self._last

    # -- steps -------------------------------------------------------------------------------

    def _person(self, small: np.ndarray) -> np.ndarray | None:
        """The network's person probability at the analysis size (run every
        `PERSON_EVERY` frames, its last answer between), or None without one."""
        self._frames += 1
        if self.segmenter is None:
            return None
        if self._person_last is not None and self._frames % PERSON_EVERY:
            return self._person_last
        try:
            self._person_last = self.segmenter.probability(small)
            return self._person_last
        except Exception as exc:  # any failure of the network: background subtraction alone
            self.segmenter = None
            self.missing = f"person network failed ({type(exc).__name__}: {exc})"[:200]
            log.warning("%s: background subtraction alone from now on", self.missing)
            return None

    def _confirm(self, blobs: list[Blob], rgb: np.ndarray, t: float) -> list[Blob]:
        """`blobs` with `person` kept only where a face is found at the top (when there is
        a face network): the person network takes salient things for people. A blob where
        a visitor already stands needs no face (they are known); the others are looked at
        every `CONFIRM_EVERY_S` (a cup near the lens would cost a call every frame)."""
        if self.heads.detector is None:
            return blobs
        w, h = self._size
        out = []
        due = self.heads.confirm_due(t)
        for b in blobs:
            if b.person and not self._known(b):
                x, y, bw, bh = b.box
                face = self.heads.face(rgb, (x / w, y / h, (x + bw) / w, (y + bh) / h),
                                       b.head[0] / w) if due else None
                b = dataclasses.replace(b, person=face is not None)
            out.append(b)
        return out

    def _known(self, b: Blob) -> bool:
        """A visitor already tracked stands in `b`'s box (their last place)."""
        x, y, bw, bh = b.box
        return any(x <= tr.cx <= x + bw and y <= tr.cy <= y + bh
                   for tr in self.tracker.visitors)

    def _silhouettes(self, tracks: list[Track], labels: np.ndarray, blobs: list[Blob],
                     dt: float) -> None:
        """The visitors' silhouettes into the smoothed mask; where they stand into `_hold`
        (the background does not learn there). A visitor still so long (`still_forget_s`)
        that they may be a thing left in the room is held no more, and what the person
        network saw of them is ignored from then on: a photo, a poster, a cup near the lens
        (the network takes salient things for people) does not stay a visitor for ever."""
        seen = [blobs[tr.blob].label for tr in tracks if tr.blob >= 0]
        forgotten = [tr.blob for tr in tracks
                     if tr.blob >= 0 and tr.still_s >= self.cfg.still_forget_s]
        held = [label for label in seen if label not in
                {blobs[i].label for i in forgotten}]
        now = np.isin(labels, seen).astype(np.float32) if seen else np.zeros_like(self._mask)
        a = smoothing(dt, self.cfg.mask_tau_s) if dt > 0 else 1.0
        cv2.accumulateWeighted(now, self._mask, a)
        self._hold = cv2.dilate(np.isin(labels, held).view(np.uint8), HOLD) if held else None
        things = [blobs[i].label for i in forgotten if blobs[i].person]
        if things:
            thing = cv2.dilate(np.isin(labels, things).view(np.uint8), HOLD)
            self._ignored = thing if self._ignored is None else cv2.bitwise_or(
                self._ignored, thing)
            self._ignored_at = self._t if self._t is not None else 0.0

    def _boxes(self, tracks: list[Track]) -> np.ndarray | None:
        """The tracks' boxes grown by `BOX_MARGIN` each way, 0/1 uint8 at the analysis size
        (None without tracks): where they stand while their silhouettes are not seen."""
        if not tracks:
            return None
        w, h = self._size
        out = np.zeros((h, w), np.uint8)
        for tr in tracks:
            mw, mh = (0.5 + BOX_MARGIN) * tr.w, (0.5 + BOX_MARGIN) * tr.h
            left, top = max(round(tr.cx - mw), 0), max(round(tr.cy - mh), 0)
            out[top:max(round(tr.cy + mh), top), left:max(round(tr.cx + mw), left)] = 1
        return out

    def _visitors(self, tracks: list[Track], rgb: np.ndarray, t: float) -> list[Visitor]:
        """The confirmed tracks as `Visitor`s (fractions, body heights/s), heads on faces
        where the face network finds one at the top of a visitor near the camera."""
        w, h = self._size
        near = [(tr.id, ((tr.cx - tr.w / 2) / w, (tr.cy - tr.h / 2) / h,
                         (tr.cx + tr.w / 2) / w, (tr.cy + tr.h / 2) / h),
                 (tr.cx + tr.head[0]) / w)
                for tr in tracks if tr.h >= FACE_NEAR * h]
        ids = {tr.id for tr in tracks}
        faces = self.heads.heads(rgb, near, t, ids.__contains__)
        out = []
        for tr in tracks:
            hx, hy = (tr.cx + tr.head[0]) / w, (tr.cy + tr.head[1]) / h
            face = faces.get(tr.id)
            out.append(Visitor(
                id=tr.id, x=tr.cx / w, y=tr.cy / h, head=face or (hx, hy),
                height=tr.h / h, width=tr.w / w,
                vx=tr.vx / max(tr.h, 1.0), vy=tr.vy / max(tr.h, 1.0), motion=tr.motion,
                age_s=max(tr.seen - tr.born, 0.0), still_s=tr.still_s, face=face is not None,
            ))
        return out

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
