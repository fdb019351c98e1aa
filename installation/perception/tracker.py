"""Tracks: the same visitor from frame to frame, with an identity, a smoothed place and size,
a velocity in body heights per second and how long they have been there.

Each analysed frame, every track predicts where it is now from its velocity; blobs are
matched to predictions by distance in body heights (the Hungarian assignment, scipy), so a
far visitor's small steps and a near one's big steps weigh the same. A blob that swallows
the predictions of two or more tracks is visitors crossing or standing together: they
coast on their own velocities through it (no track takes the merged blob's centre), and
when the blob splits again the predictions pick their own halves back. A track unseen for
`lost_s` has left, and one whose prediction leaves the picture has left at once. A track
is a visitor once seen for `confirm_s` and either moved in (`arrive_heights` from where it
began) or seen by the person network: a visitor arrives by walking in, while a patch of
light, a moved chair or a bumped camera appears in place and, never confirmed, is learned
into the room.

A visitor's `motion` is their travel or how fast their silhouette changes, whichever is
more (someone turning or waving in place moves too; a track coasting unseen does not).
The change is measured against the silhouette's recent average (time constant
`velocity_tau_s`) on a canvas scaled to their height and centred on them to the
sub-pixel, so it is a share of their body whatever their size and the frame rate; the
outline's flicker (about `shape_noise_px` pixels whatever their size) is taken off first,
so a small far visitor standing still does not seem to move.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from installation.perception.blobs import Blob, silhouette
from installation.perception.config import PerceptionConfig

STILL_SPEED = 0.1  # below this a visitor is standing still, body heights/s
GROUP_MARGIN = 0.1  # a prediction this share of the box outside it still falls in it
SIZE_RATIO = 2.0  # a blob more than this much taller or shorter is someone else
FAR = 1e9  # cost of a pair that may not match


def smoothing(dt: float, tau: float) -> float:
    """The exponential smoothing factor for a step of `dt` s with time constant `tau` s."""
    return 1.0 - math.exp(-max(dt, 0.0) / tau)


@dataclass(eq=False)
class Track:
    """One visitor followed through frames; positions and sizes in analysis px, velocity
    in px/s, `motion` in body heights/s, times in s."""

    cx: float
    cy: float
    w: float
    h: float
    head: tuple[float, float]  # offset of the head from (cx, cy), px
    shape: np.ndarray  # their recent silhouette, `blobs.silhouette` (0..1)
    born: float
    seen: float
    id: int = 0  # 0 until confirmed
    vx: float = 0.0
    vy: float = 0.0
    motion: float = 0.0
    still_s: float = 0.0
    blob: int = -1  # index of this frame's blob, -1 when coasting
    origin: tuple[float, float] = (0.0, 0.0)  # where it was first seen, px
    arrived: bool = False  # it has moved in, or the person network sees a person there
    grouped: bool = False  # inside a blob shared with others this frame

    def predicted(self, dt: float) -> tuple[float, float]:
        return self.cx + self.vx * dt, self.cy + self.vy * dt

    @property
    def speed(self) -> float:
        """Travel, body heights/s."""
        return math.hypot(self.vx, self.vy) / max(self.h, 1.0)


class Tracker:
    """Matches each frame's blobs to tracks. Not thread-safe: one caller."""

    def __init__(self, cfg: PerceptionConfig, first_id: int = 1) -> None:
        self.cfg = cfg
        self.tracks: list[Track] = []
        self._next_id = first_id  # ids are never reused, across resets too (`next_id`)
        self._t: float | None = None

    @property
    def next_id(self) -> int:
        """The id the next visitor will get."""
        return self._next_id

    def reset(self) -> None:
        self.tracks = []
        self._t = None

    @property
    def visitors(self) -> list[Track]:
        """The confirmed tracks (visitors), oldest first."""
        return [tr for tr in self.tracks if tr.id]

    def update(self, blobs: list[Blob], t: float, size: tuple[int, int] | None = None,
               coast: bool = False) -> list[Track]:
        """Follow the tracks into this frame's `blobs` (capture time `t`, monotonic s; the
        picture `size` (w, h) px, for tracks that leave it); returns the confirmed tracks.
        Each track's `blob` is its blob's index (or -1). `coast`: the blobs are not to be
        believed (the camera is moving): every track coasts, no new one begins."""
        dt = 0.0 if self._t is None else max(t - self._t, 0.0)
        self._t = t
        for tr in self.tracks:
            tr.blob, tr.grouped = -1, False
        if coast:
            blobs = []
        free = self._groups(blobs, dt, t)
        self._match(blobs, free, dt, t)
        self._retire(t, size)
        for i in free:
            if not any(tr.blob == i for tr in self.tracks):
                self._begin(blobs[i], i, t)
        return self.visitors

    # -- steps -------------------------------------------------------------------------------

    def _groups(self, blobs: list[Blob], dt: float, t: float) -> list[int]:
        """Blobs holding the predictions of two or more visitors coast them; returns the
        indices of the other blobs."""
        free = []
        for i, b in enumerate(blobs):
            x, y, w, h = b.box
            mx, my = GROUP_MARGIN * w, GROUP_MARGIN * h
            inside = [tr for tr in self.visitors
                      if x - mx <= tr.predicted(dt)[0] <= x + w + mx
                      and y - my <= tr.predicted(dt)[1] <= y + h + my]
            if len(inside) >= 2:
                # Together in one blob: each coasts on its own velocity (crossing), but
                # not out of it: one that would leave it has stopped there (people who walk
                # up and stop side by side stay two, and come to rest).
                slow = 1.0 - smoothing(dt, self.cfg.velocity_tau_s)
                for tr in inside:
                    px, py = tr.predicted(dt)
                    tr.cx, tr.cy = min(max(px, x), x + w), min(max(py, y), y + h)
                    if tr.cx != px:
                        tr.vx *= slow
                    if tr.cy != py:
                        tr.vy *= slow
                    if (tr.cx, tr.cy) != (px, py):
                        tr.motion *= slow
                        tr.still_s = tr.still_s + dt if tr.motion < STILL_SPEED else 0.0
                    tr.seen, tr.blob, tr.grouped = t, i, True
            else:
                free.append(i)
        return free

    def _match(self, blobs: list[Blob], free: list[int], dt: float, t: float) -> None:
        """Hungarian assignment of the free blobs to the tracks not in a group."""
        open_tracks = [tr for tr in self.tracks if not tr.grouped]
        if open_tracks and free:
            cost = np.full((len(open_tracks), len(free)), FAR)
            for r, tr in enumerate(open_tracks):
                px, py = tr.predicted(dt)
                for c, i in enumerate(free):
                    b = blobs[i]
                    ratio = b.height / max(tr.h, 1.0)
                    if not 1 / SIZE_RATIO <= ratio <= SIZE_RATIO:
                        continue
                    d = math.hypot(b.centre[0] - px, b.centre[1] - py) / max(tr.h, b.height)
                    if d <= self.cfg.match_heights:
                        cost[r, c] = d
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] < FAR:
                    self._follow(open_tracks[r], blobs[free[c]], free[c], dt, t)
        for tr in open_tracks:
            if tr.blob < 0:  # unseen: coast on the last velocity, no motion seen
                tr.cx, tr.cy = tr.predicted(dt)
                tr.motion -= smoothing(dt, self.cfg.velocity_tau_s) * tr.motion

    def _follow(self, tr: Track, b: Blob, index: int, dt: float, t: float) -> None:
        """Track `tr` seen as blob `b` (number `index`) this frame, `dt` s after the last."""
        cfg = self.cfg
        x, y, w, h = b.box
        mx, my = x + w / 2, y + h / 2
        px, py = tr.predicted(dt)
        a = smoothing(dt, cfg.position_tau_s) if dt > 0 else 1.0
        if dt > 0:  # an alpha-beta filter: the residual corrects the place and the velocity
            rx, ry = mx - px, my - py
            beta = smoothing(dt, cfg.velocity_tau_s)
            tr.vx += beta * rx / dt
            tr.vy += beta * ry / dt
        tr.cx, tr.cy = px + a * (mx - px), py + a * (my - py)
        tr.w += a * (w - tr.w)
        tr.h += a * (h - tr.h)
        hx, hy = b.head[0] - mx, b.head[1] - my
        tr.head = (tr.head[0] + a * (hx - tr.head[0]), tr.head[1] + a * (hy - tr.head[1]))
        # Travel or the silhouette's change, whichever is more: a walker's own silhouette
        # changes too (and as they come out from behind something), counted once.
        target = max(tr.speed, cfg.shape_weight * self._change(tr, b, dt))
        tr.motion += smoothing(dt, cfg.velocity_tau_s) * (target - tr.motion)
        tr.still_s = tr.still_s + dt if tr.motion < STILL_SPEED else 0.0
        tr.seen, tr.blob = t, index
        travel = math.hypot(tr.cx - tr.origin[0], tr.cy - tr.origin[1]) / max(tr.h, 1.0)
        tr.arrived = tr.arrived or b.person or travel >= cfg.arrive_heights
        if not tr.id and tr.arrived and t - tr.born >= cfg.confirm_s:
            tr.id, self._next_id = self._next_id, self._next_id + 1

    def _change(self, tr: Track, b: Blob, dt: float) -> float:
        """How fast `tr`'s silhouette changes, seen as `b`: shares of their body per s,
        the outline's flicker taken off. Nothing for a blob cut by the picture's border
        (walking in or out changes the visible part, not the visitor)."""
        now = silhouette(b, tr.h)
        if b.edge or dt <= 0 or now.shape != tr.shape.shape:
            tr.shape = now
            return 0.0
        tau = self.cfg.velocity_tau_s
        changed = float(np.abs(now - tr.shape).sum()) / max(float(tr.shape.sum()), 1.0)
        tr.shape += smoothing(dt, tau) * (now - tr.shape)
        return max(changed - self.cfg.shape_noise_px / max(tr.h, 1.0), 0.0) / tau

    def _retire(self, t: float, size: tuple[int, int] | None) -> None:
        """Drop tracks unseen for `lost_s` or whose prediction has left the picture (and
        unconfirmed ones the moment they are lost)."""
        w, h = size or (math.inf, math.inf)
        self.tracks = [tr for tr in self.tracks
                       if tr.blob >= 0 or (tr.id and t - tr.seen <= self.cfg.lost_s
                                           and 0 <= tr.cx < w and 0 <= tr.cy < h)]

    def _begin(self, b: Blob, index: int, t: float) -> None:
        x, y, w, h = b.box
        mx, my = x + w / 2, y + h / 2
        tr = Track(mx, my, float(w), float(h), (b.head[0] - mx, b.head[1] - my),
                   silhouette(b, h), born=t, seen=t, blob=index, origin=(mx, my),
                   arrived=b.person)
        if self.cfg.confirm_s <= 0 and tr.arrived:
            tr.id, self._next_id = self._next_id, self._next_id + 1
        self.tracks.append(tr)
