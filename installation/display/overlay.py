"""The visitors overlay: what perception sees, drawn over the shown picture (camera set-up).

    show ──Overlay (marks in fractions of the picture, the silhouettes' small mask)──►
    window: fitted picture ──► silhouettes tinted ──► boxes, heads, motion, ids ──► screen

Window only, like the HUD: the recording and every other sink get the picture as composed.
The data is plain (the show maps the visitors from the camera frame into the part the
scene shows); `draw_overlay` maps it on through the window's fit (letterbox or crop) and
mirror, and draws straight into the fitted buffer after the mirror flip, so the labels
read the right way round. The tint is made at the mask's size and enlarged only over the
silhouettes' boxes, so its cost follows how much of the picture the visitors cover:
measured at 1280x720 on our 2-core CPU (busy), three people across a room 0.5 ms, one
near the camera 0.9 ms, the whole picture covered 1.2-1.6 ms (median of 300 draws, marks and
labels included).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from installation.pictures import Placement, caption

TINT_RGB = (255, 40, 210)  # the silhouettes' colour, added to the picture (magenta)
TINT_SHARE = 0.45  # how much of it a full silhouette adds, 0..1
EDGE_LEVEL = 0.5  # the silhouettes' outline is drawn where the mask crosses this, 0..1
LEAST_LEVEL = 4  # mask values (0..255) under this are not tinted: the blur's faint tail
FAR = 4  # points beyond this many view sizes are drawn there
ARROW_S = 0.5  # a visitor's motion arrow points where they will be this much later, s
PALETTE = ((80, 255, 120), (255, 210, 60), (90, 200, 255), (255, 120, 90),
           (200, 140, 255), (255, 255, 255))  # box colours, by visitor id

Rect = tuple[int, int, int, int]  # x, y, w, h, px

# The tint as a lookup table: a mask value 0..255 → what is added to each channel.
_TINT_LUT = np.array([[[round(v * TINT_SHARE * c / 255) for c in TINT_RGB]]
                      for v in range(256)], np.uint8)


@dataclass(frozen=True)
class Mark:
    """One visitor, in fractions of the picture (x right, y down; may lie outside it)."""

    id: int
    box: tuple[float, float, float, float]  # left, top, right, bottom
    head: tuple[float, float]
    velocity: tuple[float, float]  # fractions of the picture per s
    motion: float  # body heights/s
    face: bool = False


def _no_mask() -> np.ndarray:
    return np.zeros((1, 1), np.float32)


@dataclass(frozen=True, eq=False)  # compared by identity: it holds an array
class Overlay:
    """What the overlay draws: `marks`, and `mask`, the visitors' silhouettes (float32
    hxw 0..1, any size) spanning the whole picture. Read only: never written to."""

    marks: tuple[Mark, ...] = ()
    mask: np.ndarray = field(default_factory=_no_mask, repr=False)


def draw_overlay(out: np.ndarray, overlay: Overlay, picture: tuple[int, int],
                 placement: Placement, mirror: bool) -> None:
    """Draw `overlay` into `out`, the fitted buffer (HxWx3 uint8 RGB) that shows a picture of
    `picture` (W, H) px cut and placed as `placement`, mirrored or not."""
    sx, sy, sw, sh = placement.src
    dx, dy, dw, dh = placement.dst
    view = out[dy:dy + dh, dx:dx + dw]
    pw, ph = picture

    def to_px(u: float, v: float) -> tuple[float, float]:
        """A point of the picture (fractions) in the view's pixels, kept within a few
        view sizes (OpenCV draws with C ints; what lies outside is not drawn anyway)."""
        x = (u * pw - sx) * dw / sw
        y = (v * ph - sy) * dh / sh
        x = min(max(dw - x if mirror else x, -FAR * dw), FAR * dw)
        return x, min(max(y, -FAR * dh), FAR * dh)

    _silhouettes(view, overlay.mask, (sx / pw, sy / ph, sw / pw, sh / ph), mirror)
    for mark in overlay.marks:
        _mark(view, mark, to_px)


def _silhouettes(view: np.ndarray, mask: np.ndarray,
                 crop: tuple[float, float, float, float], mirror: bool) -> None:
    """The silhouettes tinted over `view`, with their outline: `crop` (left, top, width,
    height, fractions) is the part of the mask the view shows."""
    mh, mw = mask.shape[:2]
    if mh < 2 or mw < 2:
        return  # no analysed frame yet
    # The part shown, at the mask's size, as 0..255 (a small copy: the mask is the show's).
    x0, y0 = round(crop[0] * mw), round(crop[1] * mh)
    x1 = min(mw, x0 + max(1, round(crop[2] * mw)))
    y1 = min(mh, y0 + max(1, round(crop[3] * mh)))
    small = cv2.convertScaleAbs(mask[y0:y1, x0:x1], alpha=255.0)
    if mirror:
        small = cv2.flip(small, 1)
    vh, vw = view.shape[:2]
    fx, fy = vw / small.shape[1], vh / small.shape[0]
    # Tint: made at the mask's size, enlarged and added over each group of silhouettes'
    # box only (a visitor far away costs a few thousand pixels, not the whole picture).
    _, level = cv2.threshold(small, LEAST_LEVEL - 1, 255, cv2.THRESH_BINARY)
    blobs, _ = cv2.findContours(level, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = [(r[0], r[1], r[2], r[3]) for r in map(cv2.boundingRect, blobs)]
    for bx, by, bw, bh in _apart(boxes):
        X0, Y0 = math.floor(bx * fx), math.floor(by * fy)
        X1, Y1 = min(vw, math.ceil((bx + bw) * fx)), min(vh, math.ceil((by + bh) * fy))
        if X1 <= X0 or Y1 <= Y0:
            continue
        tint = cv2.LUT(cv2.cvtColor(small[by:by + bh, bx:bx + bw], cv2.COLOR_GRAY2RGB),
                       _TINT_LUT)
        region = view[Y0:Y1, X0:X1]
        cv2.add(region, cv2.resize(tint, (X1 - X0, Y1 - Y0), interpolation=cv2.INTER_LINEAR),
                dst=region)
    # The outline where the mask crosses EDGE_LEVEL, found at the mask's size, scaled up.
    _, edge = cv2.threshold(small, round(EDGE_LEVEL * 255), 255, cv2.THRESH_BINARY)
    contours, _ = cv2.findContours(edge, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if contours:
        scale = np.array([fx, fy])
        lines = [((c.reshape(-1, 2) + 0.5) * scale).astype(np.int32) for c in contours]
        cv2.polylines(view, lines, True, TINT_RGB, max(1, vh // 360), cv2.LINE_AA)


def _apart(rects: list[Rect]) -> list[Rect]:
    """`rects` with those that overlap or touch merged, so no pixel is tinted twice."""
    out: list[Rect] = []
    for rect in rects:
        x, y, w, h = rect
        merged = True
        while merged:  # a grown rect may now reach one kept before
            merged = False
            for other in out:
                ox, oy, ow, oh = other
                if x <= ox + ow and ox <= x + w and y <= oy + oh and oy <= y + h:
                    out.remove(other)
                    x0, y0 = min(x, ox), min(y, oy)
                    x, y, w, h = x0, y0, max(x + w, ox + ow) - x0, max(y + h, oy + oh) - y0
                    merged = True
                    break
        out.append((x, y, w, h))
    return out


def _mark(view: np.ndarray, mark: Mark,
          to_px: Callable[[float, float], tuple[float, float]]) -> None:
    """One visitor's box, head, motion arrow and label."""
    if not all(math.isfinite(n) for n in (*mark.box, *mark.head, *mark.velocity)):
        return  # nowhere to draw it
    vh = view.shape[0]
    colour = PALETTE[mark.id % len(PALETTE)]
    thick = max(1, vh // 360)  # 2 px at 720 p
    left, top, right, bottom = mark.box
    (ax, ay), (bx, by) = to_px(left, top), to_px(right, bottom)
    p0 = (round(min(ax, bx)), round(min(ay, by)))
    p1 = (round(max(ax, bx)), round(max(ay, by)))
    cv2.rectangle(view, p0, p1, colour, thick)  # upright: no anti-aliasing to pay for
    # Head: a ring, filled when a face was found there; about a fifth of their height.
    hx, hy = to_px(*mark.head)
    radius = max(3, round((p1[1] - p0[1]) / 10))
    cv2.circle(view, (round(hx), round(hy)), radius, colour, -1 if mark.face else thick,
               cv2.LINE_AA)
    # Motion: from the box's centre to where they will be in ARROW_S.
    cx, cy = to_px((left + right) / 2, (top + bottom) / 2)
    ex, ey = to_px((left + right) / 2 + mark.velocity[0] * ARROW_S,
                   (top + bottom) / 2 + mark.velocity[1] * ARROW_S)
    if math.hypot(ex - cx, ey - cy) >= 2:
        cv2.arrowedLine(view, (round(cx), round(cy)), (round(ex), round(ey)), colour, thick,
                        cv2.LINE_AA, tipLength=0.25)
    scale = max(0.45, vh / 1400)  # OpenCV font scale: ~12 px tall at 720 p
    caption(view, f"#{mark.id} {mark.motion:.2f} h/s", (p0[0], max(12, p0[1] - 4)), scale)
